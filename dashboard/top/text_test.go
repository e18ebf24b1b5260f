package top

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"ipcluster/dashboard"
)

func sampleView(engines int) dashboard.View {
	kind, host := "go", "node-with-a-rather-long-name.cluster.example.org"
	v := dashboard.View{Time: time.Now(), Profile: "default", ClusterID: "abc", Controller: dashboard.ControllerState{Connected: true}}
	for i := range engines {
		task := "sleep 100; echo a rather long command line that will not fit on the screen at all"
		e := dashboard.Engine{ID: i, Kind: &kind, Host: &host, State: dashboard.Busy, Running: 1, Completed: 10 * i, CurrentTask: &task}
		if i == 2 {
			e.State, e.Detail, e.CurrentTask = dashboard.Lost, "unregistered by the controller", nil
		}
		v.Engines = append(v.Engines, e)
	}
	v.Jobs = []dashboard.Job{{ID: "4242", Role: "engines", State: "RUNNING", Phase: "running", Engines: []int{0, 1, 3}}}
	for i := range 100 {
		v.History = append(v.History, dashboard.Sample{Rate: float64(i % 7), Depth: i})
	}
	v.Failures = []dashboard.Failure{{MsgID: "m", Error: "CommandError: exited with status 3", StderrTail: "first\nlast line\n"}}
	return v
}

func TestRenderFits80x24(t *testing.T) {
	for _, n := range []int{4, 60} {
		screen, maxOffset := Render(sampleView(n), 80, 24, 0)
		lines := strings.Split(screen, "\n")
		if len(lines) > 24 {
			t.Errorf("%d engines: %d lines", n, len(lines))
		}
		for _, l := range lines {
			if utf8.RuneCountInString(l) > 80 {
				t.Errorf("%d engines: line of %d columns: %q", n, utf8.RuneCountInString(l), l)
			}
		}
		for _, want := range []string{"ID", "STATE", "0   busy  ", "lost", "q quit", "4242", "RUNNING"} {
			if !strings.Contains(screen, want) {
				t.Errorf("%d engines: %q missing:\n%s", n, want, screen)
			}
		}
		if n == 4 && (maxOffset != 0 || !strings.Contains(screen, "last line")) {
			t.Errorf("4 engines fit with the failures (max offset %d):\n%s", maxOffset, screen)
		}
		if n == 60 {
			if maxOffset == 0 || !strings.Contains(screen, "more engines") {
				t.Errorf("60 engines: no scrolling (max offset %d):\n%s", maxOffset, screen)
			}
			scrolled, _ := Render(sampleView(n), 80, 24, maxOffset)
			if !strings.Contains(scrolled, "\n59 ") {
				t.Errorf("scrolled to the end, the last engine is not shown:\n%s", scrolled)
			}
		}
	}
}
