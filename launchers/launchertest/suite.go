// Package launchertest is the conformance suite every launcher passes: start, watch, signal
// and stop a job; stop it from a handle that went through JSON (as `ipcluster stop` does from
// another process); report a job that fails at once with its exit code and output.
package launchertest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipcluster/internal/procstat"
	"ipcluster/launchers"
)

// Target says how to exercise a launcher.
type Target struct {
	// New builds a fresh launcher, as a new ipcluster process would.
	New func(t *testing.T) launchers.Launcher
	// Env is added to every request (e.g. what mpiexec needs as root).
	Env map[string]string
	// Timeout bounds each wait (batch schedulers are slower than local processes).
	Timeout time.Duration
	// Hosts are the hosts Status must name while the engines run (SSH: the engines dict's
	// hosts). Empty: this machine, by any of its names (local processes and the test
	// schedulers run here).
	Hosts []string
	// HostsUnknown: the scheduler does not say where the job runs (PBS Pro's qstat -f shows
	// no exec_host for an array job), and Status says "(unknown)".
	HostsUnknown bool
	// RemoteRunning lists which of the processes started on other hosts (Process.Host set)
	// still run there, checked without the launcher (over SSH); needed by launchers that
	// start such processes.
	RemoteRunning func(t *testing.T, procs []launchers.Process) []launchers.Process
}

// Run runs the suite.
func Run(t *testing.T, target Target) {
	if target.Timeout == 0 {
		target.Timeout = 30 * time.Second
	}
	t.Run("StartStatusSignalStop", func(t *testing.T) { startStatusSignalStop(t, target) })
	t.Run("StopFromSerialisedHandle", func(t *testing.T) { stopFromHandle(t, target) })
	t.Run("EarlyExitIsReported", func(t *testing.T) { earlyExit(t, target) })
}

func request(t *testing.T, target Target, role launchers.Role, n int, script string) launchers.Request {
	dir := t.TempDir()
	env := map[string]string{"LAUNCHERTEST_DIR": dir}
	for k, v := range target.Env {
		env[k] = v
	}
	os.MkdirAll(filepath.Join(dir, "log"), 0o755)
	return launchers.Request{
		Role: role, N: n, Command: []string{"/bin/sh", "-c", script, "launchertest"},
		Env: env, WorkDir: dir, ProfileDir: dir, ClusterID: "conformance", SetID: "1", LogDir: filepath.Join(dir, "log"),
	}
}

// waitPhase polls Status until cond holds.
func waitPhase(t *testing.T, target Target, l launchers.Launcher, h *launchers.Handle, what string, cond func(launchers.State) bool) launchers.State {
	t.Helper()
	deadline := time.Now().Add(target.Timeout)
	for {
		st, err := l.Status(context.Background(), h)
		if err != nil {
			t.Fatalf("status: %v", err)
		}
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last state %+v", what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// markers counts the files the job's processes wrote into dir.
func markers(dir, prefix string) int {
	entries, _ := os.ReadDir(dir)
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			n++
		}
	}
	return n
}

// The job script: record SIGUSR1 in a marker, write a "started" marker (after the traps, so
// that a signal sent once it shows is caught), run until stopped.
const longRunning = `trap 'touch "$LAUNCHERTEST_DIR/usr1.$$"' USR1
trap 'exit 0' TERM
touch "$LAUNCHERTEST_DIR/started.$$"
while :; do sleep 0.05; done`

func startStatusSignalStop(t *testing.T, target Target) {
	l := target.New(t)
	ctx := context.Background()
	req := request(t, target, launchers.Engines, 2, longRunning)
	h, err := l.Start(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			l.Stop(ctx, h)
		}
	})
	waitPhase(t, target, l, h, "both engines to start", func(launchers.State) bool { return markers(req.WorkDir, "started.") == 2 })
	st := waitPhase(t, target, l, h, "running", func(s launchers.State) bool { return s.Phase == launchers.Running })
	checkHosts(t, target, st.Hosts)
	// A launcher that cannot signal its jobs (Grid Engine has no qsig) says so with
	// errors.ErrUnsupported.
	if err := l.Signal(ctx, h, syscall.SIGUSR1); errors.Is(err, errors.ErrUnsupported) {
		t.Logf("signals unsupported: %v", err)
	} else if err != nil {
		t.Fatal(err)
	} else {
		waitPhase(t, target, l, h, "SIGUSR1 to reach both engines", func(launchers.State) bool { return markers(req.WorkDir, "usr1.") == 2 })
	}
	if err := l.Stop(ctx, h); err != nil {
		t.Fatal(err)
	}
	stopped = true
	waitPhase(t, target, l, h, "the job to end", func(s launchers.State) bool { return s.Phase == launchers.Done || s.Phase == launchers.Failed })
	if err := l.Stop(ctx, h); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := l.Signal(ctx, h, syscall.SIGUSR1); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Signal after Stop: %v", err)
	}
	checkGone(t, target, h)
}

// checkHosts: the running job names the hosts it runs on, not a placeholder.
func checkHosts(t *testing.T, target Target, hosts []string) {
	t.Helper()
	got := slices.Sorted(slices.Values(hosts))
	if len(target.Hosts) > 0 {
		if want := slices.Sorted(slices.Values(target.Hosts)); !slices.Equal(got, want) {
			t.Errorf("running job names hosts %q, want %q", got, want)
		}
		return
	}
	if target.HostsUnknown {
		if !slices.Equal(got, []string{"(unknown)"}) {
			t.Errorf("running job names hosts %q, want (unknown): the target says its scheduler does not tell", got)
		}
		return
	}
	name, _ := os.Hostname()
	short, _, _ := strings.Cut(name, ".")
	for _, h := range got {
		if first, _, _ := strings.Cut(h, "."); h != "localhost" && !strings.EqualFold(first, short) {
			t.Errorf("running job names host %q, not a name of this machine (%s)", h, name)
		}
	}
	if len(got) == 0 {
		t.Errorf("running job names no host")
	}
}

// checkGone checks, without asking the launcher's Status, that nothing of a stopped job runs:
// its local processes, its processes on other hosts (target.RemoteRunning), its batch jobs
// (the scheduler's list of the user's jobs, through a fresh launcher).
func checkGone(t *testing.T, target Target, h *launchers.Handle) {
	t.Helper()
	var remote []launchers.Process
	for _, p := range h.Processes {
		switch {
		case p.Host != "":
			remote = append(remote, p)
		case procstat.Alive(p.PID):
			t.Errorf("process %d still running after Stop", p.PID)
		}
	}
	if len(remote) > 0 {
		if target.RemoteRunning == nil {
			t.Fatalf("the job has processes on other hosts and the target cannot check them (set Target.RemoteRunning)")
		}
		for _, p := range target.RemoteRunning(t, remote) {
			t.Errorf("process %d on %s still running after Stop", p.PID, p.Host)
		}
	}
	if len(h.JobIDs) == 0 {
		return
	}
	lister, ok := target.New(t).(launchers.JobLister)
	if !ok {
		t.Fatalf("the launcher submits jobs (%v) but cannot list the scheduler's jobs", h.JobIDs)
	}
	jobs, err := lister.ListJobs(context.Background())
	if errors.Is(err, errors.ErrUnsupported) {
		t.Logf("not checked that the scheduler forgot the job: %v", err)
		return
	} else if err != nil {
		t.Fatalf("list the scheduler's jobs: %v", err)
	}
	for _, j := range jobs {
		for _, id := range h.JobIDs {
			if leadingNumber(j.ID) == leadingNumber(id) {
				t.Errorf("the scheduler still lists job %s (%s) after Stop", j.ID, j.State)
			}
		}
	}
}

// leadingNumber is the number a job id starts with ("123" of "123[].server").
func leadingNumber(id string) string {
	end := strings.IndexFunc(id, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		return id
	}
	return id[:end]
}

func stopFromHandle(t *testing.T, target Target) {
	ctx := context.Background()
	req := request(t, target, launchers.Controller, 1, longRunning)
	first := target.New(t)
	h, err := first.Start(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Stop(ctx, h) })
	data, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var copy launchers.Handle
	if err := json.Unmarshal(data, &copy); err != nil {
		t.Fatal(err)
	}
	other := target.New(t) // knows nothing but the handle
	waitPhase(t, target, other, &copy, "running, seen from another launcher", func(s launchers.State) bool { return s.Phase == launchers.Running })
	if err := other.Stop(ctx, &copy); err != nil {
		t.Fatal(err)
	}
	waitPhase(t, target, other, &copy, "the job to end", func(s launchers.State) bool { return s.Phase != launchers.Running && s.Phase != launchers.Pending })
	checkGone(t, target, &copy)
}

func earlyExit(t *testing.T, target Target) {
	l := target.New(t)
	ctx := context.Background()
	req := request(t, target, launchers.Engines, 1, `echo "cannot reach the controller at tcp://10.0.0.1:1234" >&2; exit 3`)
	h, err := l.Start(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Stop(ctx, h) })
	st := waitPhase(t, target, l, h, "the failure", func(s launchers.State) bool { return s.Phase == launchers.Failed })
	if st.ExitCode == nil || *st.ExitCode != 3 {
		t.Errorf("exit code %v, want 3", st.ExitCode)
	}
	if !strings.Contains(st.Reason, "cannot reach the controller") {
		t.Errorf("reason does not show the output: %q", st.Reason)
	}
}
