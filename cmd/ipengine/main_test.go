package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/testutil"
	"ipcluster/internal/version"
	"ipcluster/profiles"
	"ipcluster/runtime/controller"
	"ipcluster/runtime/transport"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func runArgs(t *testing.T, ctx context.Context, getenv func(string) string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(ctx, args, getenv, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsageAndBadOptions(t *testing.T) {
	code, out, _ := runArgs(t, context.Background(), env(nil), "--help")
	if code != exitOK || !strings.Contains(out, "--wait-for-url-file") || !strings.Contains(out, "ipyparallel.engine") {
		t.Errorf("--help: %d %q", code, out)
	}
	code, _, errOut := runArgs(t, context.Background(), env(nil), "--profile-dri=x")
	if code != exitUsage || !strings.Contains(errOut, "did you mean --profile-dir") {
		t.Errorf("typo: %d %q", code, errOut)
	}
	code, _, errOut = runArgs(t, context.Background(), env(nil), "--id=-1")
	if code != exitUsage || !strings.Contains(errOut, "--id") {
		t.Errorf("bad id: %d %q", code, errOut)
	}
	code, _, errOut = runArgs(t, context.Background(), env(nil), "--mpi", "--profile-dir", t.TempDir())
	if code != exitUsage || !strings.Contains(errOut, "OMPI_COMM_WORLD_RANK") {
		t.Errorf("--mpi outside MPI: %d %q", code, errOut)
	}
}

func TestNoControllerSaysWhereItLooked(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	code, _, errOut := runArgs(t, context.Background(), env(map[string]string{"IPP_PROFILE_DIR": dir, "IPP_CLUSTER_ID": "blue"}),
		"--wait-for-url-file=0.3", "--log-level=CRITICAL")
	if code != exitError {
		t.Errorf("exit %d", code)
	}
	for _, want := range []string{filepath.Join(dir, "security", "ipcontroller-blue-engine.json"), "IPP_PROFILE_DIR", "IPP_CLUSTER_ID", "waited 300ms"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("message %q does not mention %q", errOut, want)
		}
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}

// serveController runs an in-process controller until the test ends.
func serveController(t *testing.T, cfg controller.Config) {
	t.Helper()
	ctl, err := controller.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ctl.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
}

// TestRunsAgainstController runs the whole command in-process against an in-process
// controller, found through the profile, and stops it as SIGTERM would.
func TestRunsAgainstController(t *testing.T) {
	dir := t.TempDir()
	serveController(t, controller.Config{ProfileDir: dir, ClusterID: "x", Ping: 100 * time.Millisecond})

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() {
		done <- run(ctx, []string{"--profile-dir", dir, "--cluster-id=x", "--id=3", "--quiet"}, env(nil), os.Stdout, &errOut)
	}()
	// the controller records registered engines in log/engines<cluster_id>.json
	state := filepath.Join(dir, "log", "enginesx.json")
	if !testutil.Within(20*time.Second, func() bool {
		var s struct{ Engines map[string]string }
		return profiles.ReadJSON(state, &s) == nil && s.Engines["3"] != ""
	}) {
		t.Fatalf("engine 3 never registered; stderr: %s", errOut.String())
	}
	stop()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d after stop; stderr: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("engine did not stop")
	}
}

// --version names the program's version and the ZeroMQ transport the binary was built with
// (pure-Go or libzmq).
func TestVersionNamesTheTransport(t *testing.T) {
	code, out, _ := runArgs(t, context.Background(), env(nil), "--version")
	if want := "ipengine " + version.String() + " (ipcluster in Go), transport: " + transport.Backend() + "\n"; code != exitOK || out != want {
		t.Errorf("--version: %d %q, want %q", code, out, want)
	}
}
