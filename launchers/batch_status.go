package launchers

import (
	"bufio"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// jobLine is one job (or array element) as a status command reports it.
type jobLine struct {
	ID, Name, State, Reason, Hosts, Start, Exit string
	Elapsed, Left                               string // run time and time left, in the scheduler's words
}

func compileRegexp(s string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("job_id_regexp %q: %w", s, err)
	}
	return re, nil
}

func matches(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// numericID is the leading number of a job id ("123" of "123[].server", "123.4").
func numericID(id string) string {
	i := 0
	for i < len(id) && id[i] >= '0' && id[i] <= '9' {
		i++
	}
	if i == 0 {
		return id
	}
	return id[:i]
}

func (b *batch) statusArgv(job batchJob, ids []string) []string {
	var argv []string
	hasIDs := false
	for _, a := range job.Status {
		switch {
		case a == "{ids}":
			argv, hasIDs = append(argv, ids...), true
		case strings.Contains(a, "{ids}"):
			argv, hasIDs = append(argv, strings.ReplaceAll(a, "{ids}", strings.Join(ids, ","))), true
		default:
			argv = append(argv, a)
		}
	}
	if !hasIDs && !b.row.StatusListsAll {
		argv = append(argv, ids...)
	}
	return b.withScheduler(argv, job)
}

// Status asks the scheduler for the job's state; once the scheduler no longer reports the
// job, the exit statuses the job script recorded (on the shared filesystem) tell how it ended.
func (b *batch) Status(ctx context.Context, h *Handle) (State, error) {
	job, err := decodeJob(h)
	if err != nil {
		return State{}, err
	}
	r := b.runners.For(job.Login)
	lines, err := b.query(ctx, job, h.JobIDs)
	if err != nil {
		return State{}, err
	}
	exits := b.exitCodes(ctx, r, job)
	stopped, err := r.Exists(ctx, job.ExitFile+".stopped")
	if err != nil {
		return State{}, fmt.Errorf("%s status: read %s.stopped%s: %w", b.row.Title, job.ExitFile, on(r), err)
	}
	st := State{Phase: Done}
	if len(lines) == 0 { // gone from the queue
		cause := ""
		if !stopped {
			cause = b.accounting(ctx, r, job, h.JobIDs, exits)
		}
		return b.ended(ctx, r, job, exits, stopped, cause, h), nil
	}
	var pending, ended []StateInfo
	var reasons, starts []string
	hosts := map[string]bool{}
	for _, l := range lines {
		info, ok := b.row.States[l.State]
		if !ok {
			info = StateInfo{Phase: Pending, Cause: "scheduler state " + l.State}
		}
		switch info.Phase {
		case Running:
			st.Running++
			for _, hst := range strings.FieldsFunc(l.Hosts, func(r rune) bool { return r == ',' || r == ' ' || r == '+' }) {
				if hst != "" && hst != "-" && hst != "(null)" && hst != "undefined" {
					hst = strings.Split(hst, "/")[0] // PBS: node/cpu
					if i := strings.LastIndexByte(hst, '@'); i >= 0 {
						hst = hst[i+1:] // HTCondor: slot1@node
					}
					hosts[hst] = true
				}
			}
		case Pending:
			pending = append(pending, info)
			if r := pendingReason(info, l); r != "" {
				reasons = append(reasons, r)
			}
			if l.Start != "" && l.Start != "N/A" && l.Start != "-" {
				starts = append(starts, l.Start)
			}
		default:
			ended = append(ended, info)
			if l.Exit != "" && l.Exit != "-" {
				if c, err := strconv.Atoi(strings.SplitN(l.Exit, ":", 2)[0]); err == nil && exits[fmt.Sprint("sched")] == nil {
					exits["sched"] = &c
				}
			}
		}
	}
	switch {
	case st.Running > 0:
		st.Phase = Running
		for hst := range hosts {
			st.Hosts = append(st.Hosts, hst)
		}
		sort.Strings(st.Hosts)
		if len(st.Hosts) == 0 {
			st.Hosts = []string{"(unknown)"}
		}
		if h.Role == Engines && b.row.Tasks {
			st.Running = h.N
		}
	case len(pending) > 0:
		st.Phase = Pending
		if len(reasons) == 0 && len(b.row.Explain) > 0 {
			reasons = b.explain(ctx, r, h.JobIDs[0])
		}
		st.Reason = strings.Join(uniq(reasons), "; ")
		if len(starts) > 0 {
			if st.Reason != "" {
				st.Reason += "; "
			}
			st.Reason += "expected start " + starts[0]
		}
	default:
		cause := ""
		for _, info := range ended {
			if info.Phase == Failed && cause == "" {
				cause = info.Cause
			}
		}
		return b.ended(ctx, r, job, exits, stopped, cause, h), nil
	}
	return st, nil
}

// query runs the status command and returns the lines of the handle's jobs (none once the
// scheduler no longer knows them).
func (b *batch) query(ctx context.Context, job batchJob, ids []string) ([]jobLine, error) {
	out, err := b.runners.For(job.Login).Run(ctx, b.statusArgv(job, ids), nil, nil)
	if err != nil {
		if b.row.Gone == "" || !matches(b.row.Gone, out) {
			return nil, fmt.Errorf("%s status: %w", b.row.Title, err)
		}
		return nil, nil
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[numericID(id)] = true
	}
	var lines []jobLine
	for _, l := range b.row.Parse(b.row, out) {
		if want[numericID(l.ID)] {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

func pendingReason(info StateInfo, l jobLine) string {
	r := strings.TrimSpace(l.Reason)
	if r == "None" || r == "-" || r == "undefined" {
		r = ""
	}
	switch {
	case info.Cause != "" && r != "":
		return info.Cause + ": " + r
	case info.Cause != "":
		return info.Cause
	}
	return r
}

// ended is the state of a job that finished: from the recorded exit statuses, the
// scheduler's cause, and whether ipcluster asked it to stop.
func (b *batch) ended(ctx context.Context, r Runner, job batchJob, exits map[string]*int, stopped bool, cause string, h *Handle) State {
	st := State{Phase: Done}
	missing := 0
	for _, idx := range job.Indexes {
		c := exits[idx]
		if c == nil {
			missing++
			continue
		}
		if *c != 0 && st.ExitCode == nil {
			st.ExitCode = c
		}
	}
	if st.ExitCode == nil && exits["sched"] != nil && *exits["sched"] != 0 {
		st.ExitCode = exits["sched"]
	}
	switch {
	case stopped:
		st.Reason = "stopped"
		return st
	case st.ExitCode != nil:
		st.Phase = Failed
		st.Reason = fmt.Sprintf("%s job %s exited with status %d", b.row.Title, strings.Join(h.JobIDs, ","), *st.ExitCode)
		if cause != "" && cause != "non-zero exit" {
			st.Reason += " (" + cause + ")"
		}
	case cause != "":
		st.Phase = Failed
		st.Reason = fmt.Sprintf("%s job %s: %s", b.row.Title, strings.Join(h.JobIDs, ","), cause)
	case missing > 0:
		st.Phase = Failed
		st.Reason = fmt.Sprintf("%s job %s left the queue before %d of %d elements recorded an exit status (cancelled, or killed by the scheduler: time limit, memory, node failure)",
			b.row.Title, strings.Join(h.JobIDs, ","), missing, len(job.Indexes))
	default:
		return st
	}
	if t := outputTail(ctx, r, job, 20); t != "" {
		st.Reason += "; last lines of " + job.OutputFile + on(r) + ":\n" + t
	}
	return st
}

// outputTail is the end of the job's output (or of each element's output file), read on the
// login host when there is one (no shared file system needed).
func outputTail(ctx context.Context, r Runner, job batchJob, n int) string {
	read := func(p string) string {
		data, err := r.ReadFile(ctx, p)
		if err != nil {
			return ""
		}
		return lastLines(string(data), n)
	}
	if t := read(job.OutputFile); t != "" {
		return t
	}
	var files []string
	if r.Host() == "" {
		files, _ = filepath.Glob(job.OutputFile + ".*")
	} else { // no glob over SFTP: the elements' files are <output>.<index>
		for _, idx := range job.Indexes {
			files = append(files, job.OutputFile+"."+idx)
		}
	}
	var parts []string
	for _, f := range files {
		if strings.HasSuffix(f, ".events") {
			continue
		}
		if t := read(f); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n")
}

func (b *batch) exitCodes(ctx context.Context, r Runner, job batchJob) map[string]*int {
	out := map[string]*int{}
	for _, idx := range job.Indexes {
		data, err := r.ReadFile(ctx, job.ExitFile+"."+idx)
		if err != nil {
			continue
		}
		if c, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			out[idx] = &c
		}
	}
	return out
}

// accounting asks the row's accounting command why a job that left the queue ended, when an
// element recorded no exit status (killed by the scheduler); it returns the cause ("" when
// the accounting does not tell, e.g. not written yet) and sets exits["sched"] to the exit
// status of the record that gave it.
func (b *batch) accounting(ctx context.Context, r Runner, job batchJob, ids []string, exits map[string]*int) string {
	parse := b.row.AccountingParse
	if len(b.row.Accounting) == 0 || parse == nil {
		return ""
	}
	missing := map[string]bool{}
	for _, idx := range job.Indexes {
		if exits[idx] == nil {
			missing[idx] = true
		}
	}
	if len(missing) == 0 {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second) // accounting files can be large
	defer cancel()
	var recs []map[string]string
	for _, id := range ids {
		var argv []string
		for _, a := range b.row.Accounting {
			argv = append(argv, strings.ReplaceAll(a, "{id}", numericID(id)))
		}
		out, err := r.Run(ctx, argv, nil, nil)
		if err != nil {
			continue // no record (yet): accounting is written a few seconds after the end
		}
		for _, r := range parse(out) {
			if idx, ok := r["index"]; !ok || missing[idx] {
				recs = append(recs, r)
			}
		}
	}
	for _, c := range b.row.AccountingCauses {
		for _, r := range recs {
			if !c.matches(r) {
				continue
			}
			if n, err := strconv.Atoi(r["exit"]); err == nil && exits["sched"] == nil {
				exits["sched"] = &n
			}
			return c.expand(r)
		}
	}
	return ""
}

func (c AccountingCause) matches(rec map[string]string) bool {
	for field, pattern := range c.Match {
		if !matches(pattern, rec[field]) {
			return false
		}
	}
	return true
}

var fieldRef = regexp.MustCompile(`\{(\w+)\}`)

// expand replaces {field} in the cause by the record's field.
func (c AccountingCause) expand(rec map[string]string) string {
	return fieldRef.ReplaceAllStringFunc(c.Cause, func(m string) string {
		if v, ok := rec[m[1:len(m)-1]]; ok {
			return strings.Join(strings.Fields(v), " ")
		}
		return m
	})
}

// explain runs the row's Explain command for a pending job's reason.
func (b *batch) explain(ctx context.Context, r Runner, id string) []string {
	var argv []string
	for _, a := range b.row.Explain {
		argv = append(argv, strings.ReplaceAll(a, "{id}", id))
	}
	out, err := r.Run(ctx, argv, nil, nil)
	if err != nil {
		return nil
	}
	re := regexp.MustCompile(b.row.ExplainMatch)
	var reasons []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if m := re.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			reasons = append(reasons, m[1])
		}
	}
	return reasons
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
