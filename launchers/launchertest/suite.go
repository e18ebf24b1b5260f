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
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
	if len(st.Hosts) == 0 {
		t.Errorf("running job names no host: %+v", st)
	}
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
	for _, p := range h.Processes {
		if syscall.Kill(p.PID, 0) == nil && !isZombie(p.PID) {
			t.Errorf("process %d still running after Stop", p.PID)
		}
	}
}

func isZombie(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(data), ')')
	return i > 0 && len(data) > i+2 && data[i+2] == 'Z'
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
