// Package top is `ipcluster top`: the dashboard's View as a terminal screen, refreshed as it
// changes, for a login node where no port can be forwarded. Plain text, no colour: it reads
// the same over any ssh and on any terminal of 80x24 or more.
package top

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"ipcluster/dashboard"
)

// sparkChars draw a series in one line, lowest to highest.
var sparkChars = []rune(" ▁▂▃▄▅▆▇█")

// Render draws v in width columns and height lines. offset scrolls the engine table (its
// first shown row); the result says how many rows could be scrolled.
func Render(v dashboard.View, width, height, offset int) (screen string, maxOffset int) {
	if width <= 0 {
		width = 80
	}
	if height <= 0 {
		height = 24
	}
	var head, tail []string
	name := v.ClusterID
	if name == "" {
		name = "''"
	}
	head = append(head, fmt.Sprintf("ipcluster top: cluster %s (profile %s)  %s", name, v.Profile, v.Time.Format("15:04:05")))
	head = append(head, summary(v), fmt.Sprintf("tasks: %d unassigned, %d assigned, %d done", v.Queue.Unassigned, v.Queue.Assigned, v.Queue.Completed))
	for _, e := range v.Errors {
		head = append(head, "! "+e)
	}
	if !v.Controller.Connected && v.Controller.Error != "" {
		head = append(head, "! controller: "+v.Controller.Error)
	}
	rates, depths := make([]float64, 0, len(v.History)), make([]float64, 0, len(v.History))
	for _, s := range v.History {
		rates, depths = append(rates, s.Rate), append(depths, float64(s.Depth))
	}
	sw := max((width-36)/2, 8)
	head = append(head, fmt.Sprintf("rate %6.1f/s %s  depth %5d %s", last(rates), spark(rates, sw), int(last(depths)), spark(depths, sw)))
	for _, m := range v.Maps {
		eta := "?"
		if m.ETASeconds != nil {
			eta = (time.Duration(*m.ETASeconds) * time.Second).Round(time.Second).String()
		}
		head = append(head, fmt.Sprintf("map %d/%d done, %d failed, %d running, %.1f/s, ETA %s: %s", m.Done, m.Total, m.Failed, m.Running, m.Rate, eta, m.Label))
	}

	if len(v.Jobs) > 0 {
		tail = append(tail, "")
		tail = append(tail, table(jobRows(v.Jobs))...)
	}
	if n := len(v.Failures); n > 0 {
		tail = append(tail, "", "recent failures:")
		for _, f := range v.Failures[max(0, n-3):] {
			tail = append(tail, "  "+failureLine(f))
		}
	}
	footer := "q quit  ↑/↓ scroll engines"

	engineLines := table(engineRows(v.Engines))
	header, rows := engineLines[0], engineLines[1:]
	room := height - len(head) - len(tail) - 3 // blank, header, footer
	if room < 3 {
		// A small terminal: the engines first.
		tail, room = nil, height-len(head)-3
	}
	room = max(room, 1)
	maxOffset = max(len(rows)-room, 0)
	offset = min(max(offset, 0), maxOffset)
	shown := rows[offset:min(len(rows), offset+room)]
	if more := len(rows) - offset - len(shown); more > 0 && len(shown) > 0 {
		shown[len(shown)-1] = fmt.Sprintf("  … %d more engines (↓)", more+1)
	}

	lines := append(append(append(head, "", header), shown...), tail...)
	lines = append(lines[:min(len(lines), height-1)], footer)
	for i, l := range lines {
		lines[i] = clip(l, width)
	}
	return strings.Join(lines, "\n"), maxOffset
}

func summary(v dashboard.View) string {
	live, lost := 0, 0
	for _, e := range v.Engines {
		switch e.State {
		case dashboard.Lost:
			lost++
		case dashboard.Stopped:
		default:
			live++
		}
	}
	parts := []string{}
	ctl := "not reachable"
	if v.Controller.Connected {
		ctl = "connected"
		if v.Cluster != nil {
			ctl = v.Cluster.Controller
		}
	}
	parts = append(parts, "controller "+ctl)
	eng := fmt.Sprintf("engines %d", live)
	if v.Cluster != nil {
		eng += fmt.Sprintf("/%d", v.Cluster.Requested)
	}
	if lost > 0 {
		eng += fmt.Sprintf(", %d lost", lost)
	}
	parts = append(parts, eng)
	if v.Cluster != nil {
		parts = append(parts, v.Cluster.Launcher)
	}
	return strings.Join(parts, " · ")
}

func engineRows(es []dashboard.Engine) [][]string {
	rows := [][]string{{"ID", "STATE", "BEAT", "RUN/Q", "DONE", "FAIL", "KIND", "HOST", "PID", "JOB", "TASK"}}
	for _, e := range es {
		beat := "?"
		if e.HeartbeatAge != nil {
			beat = strconv.FormatFloat(*e.HeartbeatAge, 'f', 1, 64) + "s"
		}
		state := e.State
		if e.State == dashboard.Lost || e.State == dashboard.Stopped {
			beat = "-"
		}
		task := ""
		if e.CurrentTask != nil {
			task = *e.CurrentTask
		}
		if e.Detail != "" && task == "" {
			task = "(" + e.Detail + ")"
		}
		rows = append(rows, []string{strconv.Itoa(e.ID), state, beat, fmt.Sprintf("%d/%d", e.Running, e.Queued),
			strconv.Itoa(e.Completed), intQ(e.Failed), orQ(e.Kind), shortHost(orQ(e.Host)), intQ(e.PID), e.Job, task})
	}
	return rows
}

func jobRows(js []dashboard.Job) [][]string {
	rows := [][]string{{"JOB", "ROLE", "STATE", "ELAPSED", "LEFT", "ENGINES", "REASON/CAUSE"}}
	for _, j := range js {
		engines := make([]string, len(j.Engines))
		for i, id := range j.Engines {
			engines[i] = strconv.Itoa(id)
		}
		why := j.Reason
		if why == "" {
			why = j.Cause
		}
		rows = append(rows, []string{j.ID, j.Role, j.State, orQ(j.Elapsed), orQ(j.TimeLeft), strings.Join(engines, ","), why})
	}
	return rows
}

func failureLine(f dashboard.Failure) string {
	s := fmt.Sprintf("engine %s %s %s", intQ(f.Engine), f.Completed.Local().Format("15:04:05"), f.Error)
	if t := strings.TrimSpace(f.StderrTail); t != "" {
		lines := strings.Split(t, "\n")
		s += " | " + lines[len(lines)-1]
	}
	return s
}

// shortHost is a host name without its domain, at most 16 columns.
func shortHost(h string) string {
	if i := strings.IndexByte(h, '.'); i > 0 && net.ParseIP(h) == nil {
		h = h[:i]
	}
	return clip(h, 16)
}

// table aligns rows in columns (the last one left ragged).
func table(rows [][]string) []string {
	var buf bytes.Buffer
	w := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		for i := range r {
			r[i] = strings.ReplaceAll(r[i], "\t", " ")
		}
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	w.Flush()
	return strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
}

func spark(vals []float64, width int) string {
	if len(vals) > width {
		vals = vals[len(vals)-width:]
	}
	peak := 0.0
	for _, x := range vals {
		peak = max(peak, x)
	}
	out := make([]rune, 0, width)
	for range width - len(vals) {
		out = append(out, ' ')
	}
	for _, x := range vals {
		i := 0
		if peak > 0 {
			i = int(x / peak * float64(len(sparkChars)-1))
		}
		out = append(out, sparkChars[i])
	}
	return "[" + string(out) + "]"
}

func last(vals []float64) float64 {
	if len(vals) == 0 {
		return 0
	}
	return vals[len(vals)-1]
}

// clip cuts a line to width runes.
func clip(s string, width int) string {
	r := []rune(strings.TrimRight(s, " "))
	if len(r) <= width {
		return string(r)
	}
	return string(r[:width-1]) + "…"
}

func orQ(s *string) string {
	if s == nil {
		return "?"
	}
	return *s
}

func intQ(n *int) string {
	if n == nil {
		return "?"
	}
	return strconv.Itoa(*n)
}
