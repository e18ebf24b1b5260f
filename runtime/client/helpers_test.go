package client_test

import (
	"context"
	"errors"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"ipcluster/internal/testutil"
	"ipcluster/runtime/client"
	"ipcluster/runtime/client/clienttest"
	"ipcluster/runtime/controller"
)

// testTimeout bounds each test: the machine is small and shared, so generous, but a hang
// must still end in a failure.
const testTimeout = 3 * time.Minute

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newCluster makes a cluster whose processes are all ended when the test finishes.
func newCluster(t *testing.T) *clienttest.Cluster {
	cl, err := clienttest.New(t.TempDir(), "gotest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cl.Stop(); err != nil {
			t.Logf("cluster stop: %v", err)
		}
		if t.Failed() {
			t.Logf("process logs:\n%s", cl.Logs())
		}
	})
	return cl
}

// inProcessController runs our controller in this process (fast heartbeats, so engines
// register and dead engines are noticed quickly) in the cluster's profile.
func inProcessController(t *testing.T, cl *clienttest.Cluster) *controller.Controller {
	ctl, err := controller.New(controller.Config{ProfileDir: cl.ProfileDir, ClusterID: cl.ClusterID, Ping: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ctl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller: %v", err)
		}
	})
	return ctl
}

// connect connects a client to the cluster and closes it when the test finishes.
func connect(t *testing.T, ctx context.Context, cl *clienttest.Cluster) *client.Client {
	c, err := client.Connect(ctx, client.Options{ProfileDir: cl.ProfileDir, ClusterID: cl.ClusterID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitForEngines waits for n engines, failing fast if an engine or controller process died.
func waitForEngines(t *testing.T, ctx context.Context, c *client.Client, cl *clienttest.Cluster, n int) []int {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	died := make(chan error, 1)
	go func() {
		died <- clienttest.WaitUntil(ctx, 100*time.Millisecond, "a process to die", func() (bool, error) {
			return false, cl.CheckAlive()
		})
	}()
	defer func() { cancel(); <-died }()
	ids, err := c.WaitForEngines(ctx, n)
	if err != nil {
		t.Fatalf("%v (process check: %v)", err, <-died)
	}
	return ids
}

func needPythonIPP(t *testing.T) {
	t.Helper()
	if err := exec.Command(clienttest.Python, "-c", "import ipyparallel").Run(); err != nil {
		t.Skipf("%s cannot import ipyparallel (Debian python3-ipyparallel; `make deps`): %v", clienttest.Python, err)
	}
}

// remoteError returns the *client.RemoteError in err, failing the test if there is none.
func remoteError(t *testing.T, err error) *client.RemoteError {
	t.Helper()
	var re *client.RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a RemoteError", err, err)
	}
	return re
}

// settledGoroutines is the goroutine count once it has stopped changing for a moment (or
// after a deadline), for a baseline taken while other components are starting or stopping.
func settledGoroutines() int {
	n, since := runtime.NumGoroutine(), time.Now()
	testutil.Within(3*time.Second, func() bool {
		if m := runtime.NumGoroutine(); m != n {
			n, since = m, time.Now()
		}
		return time.Since(since) >= 100*time.Millisecond
	})
	return n
}
