package controller

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"ipcluster/internal/testutil"
	"ipcluster/pyfind"
)

// gatedPython is an interpreter for the controller that runs the real one, except that the
// dask scheduler program waits for the gate file first: the test decides when the
// scheduler becomes ready.
func gatedPython(t *testing.T) (python, gate string) {
	t.Helper()
	real, err := pyfind.Find("distributed")
	if err != nil {
		t.Skipf("needs a Python with dask's distributed (Debian: python3-distributed): %v", err)
	}
	dir := t.TempDir()
	gate = filepath.Join(dir, "gate")
	python = filepath.Join(dir, "python")
	script := "#!/bin/sh\n" +
		"if [ \"$1\" = -c ] && [ $# -ge 3 ]; then\n" + // the scheduler program: -c SCRIPT ARGS
		"  while [ ! -e " + gate + " ]; do sleep 0.02; done\n" +
		"fi\n" +
		"exec " + real + " \"$@\"\n"
	if err := os.WriteFile(python, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	pyfind.Reset()
	t.Setenv(pyfind.EnvVar, python)
	t.Cleanup(pyfind.Reset)
	return python, gate
}

func schedulerPID(r *running) int {
	pid := 0
	onLoop(r, func() {
		r.c.dask.mu.Lock()
		defer r.c.dask.mu.Unlock()
		if p := r.c.dask.cur; p != nil && p.cmd != nil && p.cmd.Process != nil {
			pid = p.cmd.Process.Pid
		}
	})
	return pid
}

func processGone(pid int) bool {
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

func TestDaskSchedulerStartsOffTheLoopAndStopsWithTheController(t *testing.T) {
	_, gate := gatedPython(t)
	r := startController(t, Config{})
	asker := newPeer(t, r.client.Key, "", r.client.Registration)
	other := newPeer(t, r.client.Key, "", r.client.Registration)

	h := asker.send(nil, "become_dask_request", nil, map[string]any{"scheduler_args": map[string]any{"dashboard_address": ":0"}})
	testutil.Eventually(t, 10*time.Second, "the scheduler process to start", func() bool { return schedulerPID(r) != 0 })
	// While the scheduler is not ready, the controller keeps answering.
	if rep := other.request("queue_request", map[string]any{"targets": nil}); rep.Content["status"] != "ok" {
		t.Fatalf("queue_request while the scheduler starts: %v", rep.Content)
	}
	if _, early := recvOn(asker.sock, 50*time.Millisecond); early {
		t.Fatal("become_dask answered before the scheduler was ready")
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	frames, ok := recvOn(asker.sock, daskStartTimeout)
	if !ok {
		t.Fatal("no become_dask_reply")
	}
	rep := asker.decode(frames)
	if rep.Parent.MsgID != h.MsgID || rep.Header.MsgType != "become_dask_reply" || rep.Content["status"] != "ok" {
		t.Fatalf("reply %s: %v", rep.Header.MsgType, rep.Content)
	}
	for _, k := range []string{"ip", "address", "port"} {
		if rep.Content[k] == nil {
			t.Errorf("become_dask_reply lacks %q: %v", k, rep.Content)
		}
	}
	if rep.Content["ip"] != "127.0.0.1" {
		t.Errorf("scheduler ip %v, want the controller's 127.0.0.1", rep.Content["ip"])
	}
	pid := schedulerPID(r)
	r.stop(t) // the controller stops: its scheduler is gone when Run returns
	if !processGone(pid) {
		t.Errorf("dask scheduler %d still exists after the controller stopped", pid)
	}
}
