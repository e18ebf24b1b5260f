package client_test

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipcluster/runtime/client"
	"ipcluster/runtime/client/clienttest"
)

// TestPythonEngines: the Go client, our controller (in process) and two real ipyparallel
// engines. The subtests run in order on one cluster; the last ones kill an engine and shut
// everything down.
func TestPythonEngines(t *testing.T) {
	needPythonIPP(t)
	ctx := testContext(t)
	cl := newCluster(t)
	ctl := inProcessController(t, cl)
	if _, err := cl.StartEngines(clienttest.PyKind, 2); err != nil {
		t.Fatal(err)
	}
	c := connect(t, ctx, cl)
	ids := waitForEngines(t, ctx, c, cl, 2)
	if len(ids) != 2 || ids[0] == ids[1] {
		t.Fatalf("ids %v, want two engines", ids)
	}

	t.Run("execute print on all engines", func(t *testing.T) {
		results, err := c.Execute(ctx, nil, "print(6*7)")
		if err != nil {
			t.Fatal(err)
		}
		if len(results) != 2 {
			t.Fatalf("%d results, want 2", len(results))
		}
		for i, r := range results {
			if r.Stdout != "42\n" || r.Status != "ok" || r.ExitCode != 0 || r.EngineID != ids[i] {
				t.Errorf("result %d: %+v, want stdout 42 from engine %d", i, r, ids[i])
			}
		}
	})

	t.Run("broadcast", func(t *testing.T) {
		futs, err := c.BroadcastAsync(ctx, nil, "print('everywhere')")
		if err != nil {
			t.Fatal(err)
		}
		results, err := client.WaitAll(ctx, futs)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range results {
			if r.Stdout != "everywhere\n" || r.EngineID != ids[i] {
				t.Errorf("engine %d: %+v", ids[i], r)
			}
		}
	})

	t.Run("value of the last line and stderr", func(t *testing.T) {
		results, err := c.Execute(ctx, ids[1:], "6*7")
		if err != nil || results[0].ExecuteResult != "" {
			t.Fatalf("silent execute: %+v, %v; want no value", results, err)
		}
		vc, err := client.Connect(ctx, client.Options{ProfileDir: cl.ProfileDir, ClusterID: cl.ClusterID, ExecuteResults: true})
		if err != nil {
			t.Fatal(err)
		}
		defer vc.Close()
		results, err = vc.Execute(ctx, ids[1:], "import sys; print('to err', file=sys.stderr); 6*7")
		if err != nil {
			t.Fatal(err)
		}
		if r := results[0]; r.ExecuteResult != "42" || r.Stderr != "to err\n" {
			t.Errorf("got value %q, stderr %q; want 42 and 'to err'", r.ExecuteResult, r.Stderr)
		}
	})

	t.Run("exception becomes a RemoteError", func(t *testing.T) {
		results, err := c.Execute(ctx, ids[:1], "print('before'); 1/0")
		re := remoteError(t, err)
		if re.Name != "ZeroDivisionError" || re.EngineID != ids[0] || re.FromController() {
			t.Errorf("error %#v, want ZeroDivisionError from engine %d", re, ids[0])
		}
		if r := results[0]; r.Status != "error" || r.Stdout != "before\n" || r.ExitCode != -1 {
			t.Errorf("result %+v, want status error with the output printed before", r)
		}
		// the engine keeps serving after an error (stop_on_error is off)
		if _, err := c.Execute(ctx, ids[:1], "pass"); err != nil {
			t.Errorf("engine unusable after an error: %v", err)
		}
	})

	t.Run("load-balanced tasks", func(t *testing.T) {
		var futs []*client.Future
		for i := range 10 {
			f, err := c.Submit(ctx, "print("+string(rune('0'+i))+")", client.TaskOptions{})
			if err != nil {
				t.Fatal(err)
			}
			futs = append(futs, f)
		}
		results, err := client.WaitAll(ctx, futs)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range results {
			if want := string(rune('0'+i)) + "\n"; r.Stdout != want || (r.EngineID != ids[0] && r.EngineID != ids[1]) {
				t.Errorf("task %d: stdout %q on engine %d, want %q on a known engine", i, r.Stdout, r.EngineID, want)
			}
		}
	})

	t.Run("queue status", func(t *testing.T) {
		qs, err := c.QueueStatus(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, id := range ids {
			q, ok := qs.Engines[id]
			if !ok {
				t.Fatalf("no line for engine %d in %+v", id, qs)
			}
			if q.Queue != 0 || q.Tasks != 0 {
				t.Errorf("engine %d busy while idle: %+v", id, q)
			}
			total += q.Completed
		}
		// 2 + 2 + 1 + 2 direct requests and 10 tasks finished so far (broadcasts are not counted
		// by ipyparallel's Hub)
		if total < 15 || qs.Unassigned != 0 {
			t.Errorf("queue status %+v: want >= 15 completed, 0 unassigned", qs)
		}
		if _, err := c.QueueStatus(ctx, []int{99}); err == nil {
			t.Error("queue status of engine 99: no error")
		}
	})

	t.Run("abort a queued request", func(t *testing.T) {
		futs, err := c.ExecuteAsync(ctx, ids[:1], "import time; time.sleep(2)")
		if err != nil {
			t.Fatal(err)
		}
		// ipyparallel's engine reads control and shell on one event loop: when the sleep
		// ends, a request right behind it may be dispatched before the abort is read, so the
		// aborted request waits behind a second one.
		between, err := c.ExecuteAsync(ctx, ids[:1], "print('runs')")
		if err != nil {
			t.Fatal(err)
		}
		queued, err := c.ExecuteAsync(ctx, ids[:1], "print('should not run')")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Abort(ctx, ids[:1], []string{queued[0].MsgID()}); err != nil {
			t.Fatal(err)
		}
		if _, err := futs[0].Wait(ctx); err != nil {
			t.Errorf("running request: %v", err)
		}
		if r, err := between[0].Wait(ctx); err != nil || r.Stdout != "runs\n" {
			t.Errorf("request between: %+v, %v", r, err)
		}
		r, err := queued[0].Wait(ctx)
		if !errors.Is(err, client.ErrAborted) || r.Status != "aborted" || r.Stdout != "" {
			t.Errorf("aborted request: %+v, %v; want ErrAborted without output", r, err)
		}
	})

	t.Run("engine killed while running a direct request", func(t *testing.T) {
		pidResult, err := c.Execute(ctx, ids[1:], "import os; print(os.getpid())")
		if err != nil {
			t.Fatal(err)
		}
		victim := findProc(t, cl, pidResult[0].Stdout)
		futs, err := c.ExecuteAsync(ctx, ids[1:], "import time; time.sleep(120)")
		if err != nil {
			t.Fatal(err)
		}
		waitQueued(t, c, ids[1], 1, 0)
		if err := victim.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_, err = futs[0].Wait(ctx)
		if !errors.Is(err, client.ErrEngineDied) {
			t.Fatalf("request on killed engine: %v, want ErrEngineDied", err)
		}
		if got := c.IDs(); len(got) != 1 || got[0] != ids[0] {
			t.Errorf("ids after the kill: %v, want [%d]", got, ids[0])
		}
		if _, err := c.Execute(ctx, ids[1:], "pass"); !errors.Is(err, client.ErrNoSuchEngine) {
			t.Errorf("execute on the dead engine: %v, want ErrNoSuchEngine", err)
		}
	})

	t.Run("shutdown engines and hub", func(t *testing.T) {
		if err := c.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Fatal("client still open after the hub shut down")
		}
		if _, err := c.Execute(ctx, nil, "pass"); err == nil {
			t.Error("execute after shutdown: no error")
		}
		for _, p := range cl.Engines {
			if err := p.Wait(ctx); err != nil {
				t.Errorf("engine did not exit: %v", err)
			}
		}
		err := clienttest.WaitUntil(ctx, 20*time.Millisecond, "the connection file to be removed", func() (bool, error) {
			_, err := os.Stat(ctl.ClientFile())
			return os.IsNotExist(err), nil
		})
		if err != nil {
			t.Error(err)
		}
	})
}

// findProc is the engine process whose pid the engine printed.
func findProc(t *testing.T, cl *clienttest.Cluster, printed string) *clienttest.Proc {
	t.Helper()
	for _, p := range cl.Engines {
		if strings.TrimSpace(printed) == strconv.Itoa(p.Pid()) {
			return p
		}
	}
	t.Fatalf("no engine process with pid %q", printed)
	return nil
}

// waitQueued waits until the Hub reports at least queue direct requests and tasks tasks on
// engine id, so that killing the engine strands them.
func waitQueued(t *testing.T, c *client.Client, id, queue, tasks int) {
	t.Helper()
	ctx := testContext(t)
	err := clienttest.WaitUntil(ctx, 20*time.Millisecond, "requests on the engine", func() (bool, error) {
		qs, err := c.QueueStatus(ctx, []int{id})
		q := qs.Engines[id]
		return q.Queue >= queue && q.Tasks >= tasks, err
	})
	if err != nil {
		t.Fatal(err)
	}
}
