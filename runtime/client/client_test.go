package client_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"ipcluster/internal/testutil"
	"ipcluster/profiles"
	"ipcluster/runtime/client"
)

// TestCloseStopsEverything: a client with work outstanding closes cleanly: waiters get
// ErrClosed and no goroutine of the client survives Close.
func TestCloseStopsEverything(t *testing.T) {
	ctx := testContext(t)
	cl := newCluster(t)
	inProcessController(t, cl)
	// the controller's goroutines start asynchronously: count once it has answered a client
	probe := connect(t, ctx, cl)
	probe.Close()
	before := settledGoroutines()

	c, err := client.Connect(ctx, client.Options{ProfileDir: cl.ProfileDir, ClusterID: cl.ClusterID})
	if err != nil {
		t.Fatal(err)
	}
	if ids := c.IDs(); len(ids) != 0 {
		t.Fatalf("ids %v without engines", ids)
	}
	// no engine exists, so the task waits in the scheduler until the client goes away
	f, err := c.Submit(ctx, "echo never", client.TaskOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// like ipyparallel's Hub, ours answers a queue status for all (no) engines with the
	// tasks still waiting for one (the hub learns of the task on another socket: poll)
	var qs client.QueueStatus
	if !testutil.Within(10*time.Second, func() bool {
		qs, err = c.QueueStatus(ctx, nil)
		return err != nil || len(qs.Engines) != 0 || qs.Unassigned >= 1
	}) || err != nil || len(qs.Engines) != 0 || qs.Unassigned != 1 {
		t.Fatalf("queue status without engines: %+v, %v; want no engines and 1 unassigned task", qs, err)
	}
	if _, err := c.QueueStatus(ctx, []int{0}); err == nil || !remoteError(t, err).FromController() {
		t.Errorf("queue status of engine 0 without engines: %v, want a controller error", err)
	}
	if _, err := c.Execute(ctx, nil, "echo"); !errors.Is(err, client.ErrNoEngines) {
		t.Errorf("execute without engines: %v, want ErrNoEngines", err)
	}
	if _, err := c.Execute(ctx, []int{3}, "echo"); !errors.Is(err, client.ErrNoSuchEngine) {
		t.Errorf("execute on engine 3: %v, want ErrNoSuchEngine", err)
	}

	// many goroutines waiting at once, all released by Close
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := f.Wait(ctx)
			errs <- err
		})
	}
	wctx, wcancel := context.WithTimeout(ctx, 50*time.Millisecond)
	if _, err := c.WaitForEngines(wctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wait for an engine that never comes: %v, want DeadlineExceeded", err)
	}
	wcancel()

	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, client.ErrClosed) {
			t.Errorf("wait after close: %v, want ErrClosed", err)
		}
	}
	if err := c.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := c.QueueStatus(ctx, nil); !errors.Is(err, client.ErrClosed) {
		t.Errorf("query after close: %v, want ErrClosed", err)
	}
	if f, err := c.Submit(ctx, "echo", client.TaskOptions{}); err == nil {
		if _, err := f.Wait(ctx); !errors.Is(err, client.ErrClosed) {
			t.Errorf("task submitted after close: %v, want ErrClosed", err)
		}
	}
	testutil.NoGoroutinesLeft(t, 5*time.Second, before)
}

// TestConnectFailures: a missing connection file and a silent Hub are reported within the
// timeout, and a failed Connect leaves nothing running.
func TestConnectFailures(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()

	start := time.Now()
	_, err := client.Connect(context.Background(), client.Options{ProfileDir: dir, ConnectTimeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "did not appear") {
		t.Errorf("missing connection file: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("missing connection file reported after %v", d)
	}

	// a registration port where nobody answers (bound, never read, so connects succeed)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	info := profiles.ClientInfo{Interface: "tcp://127.0.0.1", Registration: port, Control: port, Mux: port, Task: port,
		IOPub: port, Notification: port, Broadcast: port, Key: "k", SignatureScheme: "hmac-sha256", Pack: "json", Unpack: "json"}
	path := filepath.Join(dir, "silent-client.json")
	if err := profiles.WriteSecret(path, info); err != nil {
		t.Fatal(err)
	}
	_, err = client.Connect(context.Background(), client.Options{ConnectionFile: path, ConnectTimeout: 500 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("silent hub: %v, want a timeout", err)
	}
	info.Pack = "pickle"
	if _, err := client.Connect(context.Background(), client.Options{Info: &info}); err == nil {
		t.Error("pickle packer accepted")
	}
	testutil.NoGoroutinesLeft(t, 5*time.Second, before)
}

// TestControllerShutdownClosesOtherClients: when one client shuts the controller down,
// every other client closes itself (as ipyparallel's do) instead of waiting forever.
func TestControllerShutdownClosesOtherClients(t *testing.T) {
	ctx := testContext(t)
	cl := newCluster(t)
	inProcessController(t, cl)
	a, b := connect(t, ctx, cl), connect(t, ctx, cl)
	f, err := b.Submit(ctx, "echo", client.TaskOptions{}) // waits: no engines
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ShutdownHub(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.Done():
	case <-ctx.Done():
		t.Fatal("other client did not notice the shutdown")
	}
	if _, err := f.Wait(ctx); !errors.Is(err, client.ErrControllerShutdown) || !errors.Is(err, client.ErrClosed) {
		t.Errorf("outstanding task: %v, want ErrClosed and ErrControllerShutdown", err)
	}
}
