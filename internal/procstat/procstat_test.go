package procstat

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

func TestParseStatReadsTheFieldsAfterTheName(t *testing.T) {
	// a name with a space and a ')' in it, as a process may give itself
	line := "4242 (a b) c) S 17 4242 4242 0 -1 4194304 100 0 0 0 250 30 7 3 20 0 1 0 999 1000000 300 18446744073709551615\n"
	p, ok := parseStat(4242, []byte(line), 4096)
	if !ok {
		t.Fatal("parseStat refused a valid line")
	}
	want := Proc{PID: 4242, PPID: 17, PGID: 4242, State: 'S', UTime: 2500 * time.Millisecond, STime: 300 * time.Millisecond,
		CUTime: 70 * time.Millisecond, CSTime: 30 * time.Millisecond, StartTime: 999, RSS: 300 * 4096}
	if p != want {
		t.Errorf("parseStat = %+v, want %+v", p, want)
	}
	if p.CPU() != 2900*time.Millisecond {
		t.Errorf("CPU = %v, want 2.9s", p.CPU())
	}
	for _, bad := range []string{"", "4242 no parenthesis", "4242 (x) S 1 2 3"} {
		if _, ok := parseStat(4242, []byte(bad), 4096); ok {
			t.Errorf("parseStat accepted %q", bad)
		}
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse accepted %q", bad)
		}
	}
	if p, err := Parse([]byte(line)); err != nil || p.PID != 4242 || p.StartTime != 999 || !p.Live() {
		t.Errorf("Parse = %+v, %v; want pid 4242, start time 999, live", p, err)
	}
}

// startChild starts a child process that sleeps, on Linux (the test is skipped elsewhere);
// the test ends it (and reaps it) unless it did.
func startChild(t *testing.T) *exec.Cmd {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("/proc/<pid>/stat is Linux's")
	}
	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	return child
}

func TestAliveCountsAZombieAsGone(t *testing.T) {
	child := startChild(t)
	pid := child.Process.Pid
	if !Alive(pid) {
		t.Fatalf("a running child %d is not alive", pid)
	}
	if p, err := Stat(pid); err != nil || p.PPID != os.Getpid() || p.PGID != syscall.Getpgrp() || p.StartTime == 0 {
		t.Errorf("Stat(%d) = %+v, %v", pid, p, err)
	}
	child.Process.Kill() // not waited for: a zombie until Wait below
	if !testutil.Within(10*time.Second, func() bool { return !Alive(pid) }) {
		t.Errorf("the killed, unreaped child %d is still alive", pid)
	}
	if p, err := Stat(pid); err != nil || p.State != 'Z' {
		t.Errorf("the killed, unreaped child is %+v, %v; want a zombie", p, err)
	}
	child.Wait()
	if _, err := Stat(pid); err == nil || Alive(pid) {
		t.Errorf("the reaped child %d is still found", pid)
	}
}

func TestTreeHoldsAProcessAndItsChildren(t *testing.T) {
	child := startChild(t)
	tree := Read().Tree(os.Getpid())
	if len(tree) == 0 || tree[0].PID != os.Getpid() || tree[0].RSS <= 0 {
		t.Fatalf("the tree of this process starts with %+v", tree)
	}
	found := false
	for _, p := range tree[1:] {
		if p.PID == child.Process.Pid && p.PPID == os.Getpid() {
			found = true
		}
	}
	if !found {
		t.Errorf("the tree of this process %v lacks its child %d", tree, child.Process.Pid)
	}
	if got := Read().Tree(-1); got != nil {
		t.Errorf("the tree of no process is %v", got)
	}
}
