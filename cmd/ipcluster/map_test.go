package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

// readJournal reads a map journal, one entry per line.
func readJournal(t *testing.T, dir string) []journalEntry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, journalName))
	if err != nil {
		t.Fatal(err)
	}
	var entries []journalEntry
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var e journalEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("journal line %q: %v", line, err)
		}
		entries = append(entries, e)
	}
	return entries
}

// 1000 inputs over 4 Go engines: every task's output file is exactly what its command
// printed, the journal has one successful entry per input, the work is spread over the
// engines, and without --output-dir the printed lines are whole and prefixed.
func TestMapThousandInputsOverFourGoEngines(t *testing.T) {
	e := newEnv(t)
	e.mustIPCluster("start", "-n", "4", "--engine-kind=go", "--daemonize")
	out := filepath.Join(e.dir, "out")
	log := e.mustIPCluster("map", "--range", "1-1000", "--output-dir", out, "--progress-interval", "100ms", "--", "echo {#}:{}:{%}; echo err{} >&2")
	if !strings.Contains(log, "map: 1000 of 1000 tasks done") || !strings.Contains(log, "1000 succeeded, 0 failed") {
		t.Fatalf("map summary:\n%s", log)
	}
	// off a terminal: plain progress lines
	if !regexp.MustCompile(`(?m)^map: \d+/1000 done, \d+ failed, \d+ running, [0-9.]+ tasks/s, ETA \S+$`).MatchString(log) {
		t.Errorf("no plain progress line:\n%s", log)
	}
	entries := readJournal(t, out)
	if len(entries) != 1000 {
		t.Fatalf("journal has %d entries, want 1000", len(entries))
	}
	seen := map[int]bool{}
	engines := map[int]int{}
	for _, en := range entries {
		if seen[en.Seq] || en.Input != strconv.Itoa(en.Seq) || !en.succeeded() || en.Attempts != 1 ||
			en.Engine < 0 || en.Engine > 3 || en.Host == "" || en.Start.IsZero() || en.End.Before(en.Start) {
			t.Fatalf("journal entry %+v", en)
		}
		seen[en.Seq] = true
		engines[en.Engine]++
		stdout, _ := os.ReadFile(filepath.Join(out, fmt.Sprintf("%d.out", en.Seq)))
		stderr, _ := os.ReadFile(filepath.Join(out, fmt.Sprintf("%d.err", en.Seq)))
		if want := fmt.Sprintf("%d:%d:%d\n", en.Seq, en.Seq, en.Engine); string(stdout) != want || string(stderr) != fmt.Sprintf("err%d\n", en.Seq) {
			t.Fatalf("task %d wrote %q and %q, want %q and err%d", en.Seq, stdout, stderr, want, en.Seq)
		}
	}
	if len(engines) != 4 {
		t.Errorf("tasks ran on engines %v, want all 4", engines)
	}

	// printed output: every line whole, with its task's prefix, none lost
	printed := e.mustIPCluster("map", "--range", "1-200", "--", "for i in 1 2 3; do echo line $i of {}; done")
	lineRE := regexp.MustCompile(`^\[(\d+)\] line [123] of (\d+)$`)
	count := 0
	for _, line := range strings.Split(printed, "\n") {
		if m := lineRE.FindStringSubmatch(line); m != nil {
			if m[1] != m[2] {
				t.Fatalf("line of task %s prefixed [%s]", m[2], m[1])
			}
			count++
		} else if strings.Contains(line, "line ") {
			t.Fatalf("mangled output line %q", line)
		}
	}
	if count != 600 {
		t.Errorf("%d whole output lines, want 600:\n%s", count, printed)
	}
}

// A failing input is retried on other engines, then reported (summary, exit status,
// journal); a flaky one succeeds on its second attempt; --resume then runs only what did
// not succeed.
func TestMapRetriesReportsAndResumes(t *testing.T) {
	e := newEnv(t)
	e.mustIPCluster("start", "-n", "3", "--engine-kind=go", "--daemonize")
	state := filepath.Join(e.dir, "state")
	os.Mkdir(state, 0o755)
	ran := filepath.Join(e.dir, "ran.log")
	// "bad" fails until state/fixed exists; "flaky" fails once
	cmd := fmt.Sprintf(`echo {} >> %[1]s; if [ {} = bad ] && [ ! -e %[2]s/fixed ]; then echo broken {} >&2; exit 3; fi
if [ {} = flaky ] && [ ! -e %[2]s/flaky ]; then touch %[2]s/flaky; exit 4; fi; echo done {}`, ran, state)
	out := filepath.Join(e.dir, "out")
	inputs := []string{"a", "bad", "flaky", "b", "c"}
	args := append(append([]string{"map", "--retries", "2", "--output-dir", out, ":::"}, inputs...), "--", cmd)
	log, code := e.ipcluster(args...)
	if code != 1 || !strings.Contains(log, "4 succeeded, 1 failed") || !strings.Contains(log, "failed inputs ({#}:input): 2:bad") ||
		!strings.Contains(log, "[2] failed (input bad, 3 attempts): CommandError") {
		t.Fatalf("map with a failing input exited %d:\n%s", code, log)
	}
	byInput := map[string]journalEntry{}
	for _, en := range readJournal(t, out) {
		byInput[en.Input] = en
	}
	if bad := byInput["bad"]; bad.ExitCode != 3 || bad.Attempts != 3 || bad.succeeded() || !strings.Contains(bad.Error, "exited with status 3") {
		t.Errorf("journal entry of the failing input: %+v", bad)
	}
	if flaky := byInput["flaky"]; flaky.Attempts != 2 || !flaky.succeeded() {
		t.Errorf("journal entry of the flaky input: %+v", flaky)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "2.err")); string(got) != "broken bad\n" {
		t.Errorf("2.err = %q", got)
	}

	// the same directory again without --resume is refused, nothing touched
	if log, code := e.ipcluster(args...); code == 0 || !strings.Contains(log, "add --resume") {
		t.Errorf("reusing an output directory without --resume exited %d:\n%s", code, log)
	}
	os.WriteFile(filepath.Join(state, "fixed"), nil, 0o644)
	os.Remove(ran)
	resume := append([]string{"map", "--resume", "--output-dir", out, ":::"}, inputs...)
	log = e.mustIPCluster(append(resume, "--", cmd)...)
	if !strings.Contains(log, "1 of 1 tasks done") || !strings.Contains(log, "4 inputs skipped") {
		t.Errorf("resume summary:\n%s", log)
	}
	if got, _ := os.ReadFile(ran); string(got) != "bad\n" {
		t.Errorf("resume ran %q, want only the failed input", got)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "2.out")); string(got) != "done bad\n" {
		t.Errorf("2.out after resume = %q", got)
	}
	e.mustIPCluster("stop")
}

// Ctrl-C: the queued tasks are aborted, the running commands stopped, the journal
// written; map exits 130 and no command is left running.
func TestMapInterruptLeavesNoProcess(t *testing.T) {
	e := newEnv(t)
	e.mustIPCluster("start", "-n", "2", "--engine-kind=go", "--daemonize")
	out := filepath.Join(e.dir, "out")
	const marker = "98765" // sleep 98765<n>: only the expanded commands carry it
	cmd := exec.Command(filepath.Join(binDir, "ipcluster"), "map", "--range", "1-20", "--output-dir", out,
		"--", "sleep "+marker+"{} & sleep "+marker+"{}; wait")
	cmd.Env = e.environ()
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	commandsRunning := func() bool {
		running := 0
		for _, p := range processesMentioning("sleep\x00" + marker) {
			if !strings.HasPrefix(p, strconv.Itoa(cmd.Process.Pid)+":") {
				running++
			}
		}
		return running >= 2*2
	}
	if !testutil.WithinEvery(time.Minute, 50*time.Millisecond, commandsRunning) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("commands did not start:\n%s", log.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 130 {
		t.Fatalf("interrupted map: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "interrupted") {
		t.Errorf("no word of the interrupt:\n%s", log.String())
	}
	entries := readJournal(t, out)
	if len(entries) < 2 {
		t.Fatalf("journal has %d entries, want the running tasks at least", len(entries))
	}
	for _, en := range entries {
		if !en.Interrupted || en.succeeded() {
			t.Errorf("journal entry %+v is not marked interrupted", en)
		}
	}
	testutil.Eventually(t, 10*time.Second, "the commands to end", func() bool { return len(processesMentioning(marker)) == 0 })
	e.mustIPCluster("stop")
}

// map on a Go and a Python engine: the same command, the same output, {%} the engine
// that ran it, exit statuses and timeouts in the journal from both kinds.
func TestMapOnGoAndPythonEngines(t *testing.T) {
	requirePythonEngine(t)
	e := newEnv(t)
	e.mustIPCluster("start", "-n", "1", "--engine-kind=go", "--daemonize")
	e.mustIPCluster("engines", "-n", "1", "--engine-kind=python")
	out := filepath.Join(e.dir, "out")
	log, code := e.ipcluster("map", "--range", "1-40", "--timeout", "3s", "--output-dir", out, "--",
		`echo {} on {%} é; case {} in 13) exit 13;; 17) sleep 60;; esac`)
	if code != 1 || !strings.Contains(log, "38 succeeded, 2 failed") {
		t.Fatalf("map exited %d:\n%s", code, log)
	}
	kinds := map[int]bool{}
	for _, en := range readJournal(t, out) {
		kinds[en.Engine] = true
		stdout, _ := os.ReadFile(filepath.Join(out, fmt.Sprintf("%d.out", en.Seq)))
		if want := fmt.Sprintf("%d on %d é\n", en.Seq, en.Engine); string(stdout) != want {
			t.Errorf("task %d on engine %d printed %q, want %q", en.Seq, en.Engine, stdout, want)
		}
		switch en.Seq {
		case 13:
			if en.ExitCode != 13 {
				t.Errorf("exit 13 on engine %d journaled as %+v", en.Engine, en)
			}
		case 17:
			if !en.TimedOut || en.ExitCode != 124 {
				t.Errorf("timeout on engine %d journaled as %+v", en.Engine, en)
			}
		}
	}
	if ids := slices.Sorted(maps.Keys(kinds)); !slices.Equal(ids, []int{0, 1}) {
		t.Errorf("tasks ran on engines %v, want both kinds (0 and 1)", ids)
	}
	e.mustIPCluster("stop")
	e.assertNoProcesses()
}

// Bad input: a clear error that says what to do.
func TestMapRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"map", "--", "echo"}, "no inputs: give --each-line FILE, --range A-B or ::: INPUT"},
		{[]string{"map", "--range", "5-1", "--", "echo"}, "write A-B or A-B:STEP"},
		{[]string{"map", "--range", "1-3", ":::", "a", "--", "echo"}, "choose one"},
		{[]string{"map", "--range", "1-3", "--resume", "--", "echo"}, "--resume needs the --output-dir"},
		{[]string{"map", "--each-line", filepath.Join(e.dir, "missing"), "--", "echo"}, "no such file"},
		{[]string{"map", ":::", "a", "b"}, "need the command after --"},
	} {
		out, code := e.ipcluster(c.args...)
		if code == 0 || !strings.Contains(out, c.want) {
			t.Errorf("ipcluster %s exited %d, want an error with %q:\n%s", strings.Join(c.args, " "), code, c.want, out)
		}
	}
}

// Inputs on stdin with --each-line -, in GNU parallel's argument order.
func TestMapEachLineFromStdin(t *testing.T) {
	e := newEnv(t)
	e.mustIPCluster("start", "-n", "1", "--engine-kind=go", "--daemonize")
	cmd := exec.Command(filepath.Join(binDir, "ipcluster"), "map", "--each-line", "-", "--", "printf", "<%s>\n")
	cmd.Env = e.environ()
	cmd.Stdin = strings.NewReader("one two\nit's\n$HOME\n")
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("map: %v", err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(got))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	slices.Sort(lines)
	if want := []string{"[1] <one two>", "[2] <it's>", "[3] <$HOME>"}; !slices.Equal(lines, want) {
		t.Errorf("printf over stdin lines printed %q, want %q", lines, want)
	}
	e.mustIPCluster("stop")
}

// --range forms, and the two orders of ::: and the command.
func TestMapRangeAndArgumentForms(t *testing.T) {
	for spec, want := range map[string]string{"1-3": "1 2 3", "-2-1": "-2 -1 0 1", "0-10:5": "0 5 10", "7-7": "7"} {
		got, err := parseRange(spec)
		if err != nil || strings.Join(got, " ") != want {
			t.Errorf("--range %s = %v, %v; want %s", spec, got, err, want)
		}
	}
	for _, bad := range []string{"1", "a-b", "3-1", "1-3:0", "1-3:x"} {
		if _, err := parseRange(bad); err == nil {
			t.Errorf("--range %s accepted", bad)
		}
	}
	for _, args := range [][]string{{":::", "a", "b", "--", "echo", "{}"}, {"echo", "{}", ":::", "a", "b"}} {
		cmd, in, ok, err := splitMapArgs(args)
		if err != nil || !ok || !slices.Equal(cmd, []string{"echo", "{}"}) || !slices.Equal(in, []string{"a", "b"}) {
			t.Errorf("%q split into %q and %q (%v, %v)", args, cmd, in, ok, err)
		}
	}
}
