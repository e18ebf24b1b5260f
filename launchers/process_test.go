package launchers

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipcluster/internal/wait"
)

// TestStopReportsWhatItCouldNotStop: a process that ignores SIGTERM and cannot be sent
// SIGKILL (as another user's process could not) must make Stop fail, naming it.
func TestStopReportsWhatItCouldNotStop(t *testing.T) {
	p := newProcesses()
	p.stopGrace = 100 * time.Millisecond
	out := filepath.Join(t.TempDir(), "out")
	proc, err := p.spawn([]string{"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"}, nil, t.TempDir(), out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-proc.PID, syscall.SIGKILL) })
	ready, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := wait.Until(ready, 10*time.Millisecond, func() (bool, error) { return tail(out, 1) == "ready", nil }); err != nil {
		t.Fatalf("the test process did not start ignoring SIGTERM: %v", err)
	}
	p.kill = func(pid int, sig syscall.Signal) error {
		if sig == syscall.SIGKILL {
			return syscall.EPERM
		}
		return syscall.Kill(pid, sig)
	}
	err = p.stop(context.Background(), []Process{proc})
	if err == nil || !errors.Is(err, syscall.EPERM) || !strings.Contains(err.Error(), "still runs after SIGKILL") {
		t.Fatalf("stop of a process it could not kill: %v, want EPERM and \"still runs after SIGKILL\"", err)
	}
	if running, _ := p.alive(proc); !running {
		t.Fatal("the process is gone: the test did not exercise a failed stop")
	}

	p.kill = syscall.Kill // now as it is: SIGKILL ends it, and stop says so by returning nil
	if err := p.stop(context.Background(), []Process{proc}); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if running, _ := p.alive(proc); running {
		t.Fatal("stop returned nil but the process still runs")
	}
}
