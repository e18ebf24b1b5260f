package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipcluster/profiles"
	"ipcluster/runtime/controller"
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

func TestConfigurePrecedence(t *testing.T) {
	parse := func(argv ...string) *profiles.Args {
		a, err := profiles.ParseArgs(argv, options)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	e := env(map[string]string{"IPP_PROFILE_DIR": "/env/profile", "IPP_CLUSTER_ID": "envid", "IPP_CONNECTION_INFO": "{}"})
	// ipcluster 7 style: flags beat the environment; an empty cluster id is a value
	s, err := configure(parse("--profile-dir", "/flag/profile", "--cluster-id", "", "--log-level=20"), e)
	if err != nil {
		t.Fatal(err)
	}
	if s.source.ProfileDir != "/flag/profile" || s.source.ClusterID != "" || s.cfg.ClusterID != "" || s.source.ConnectionInfo != "{}" {
		t.Errorf("flags: %+v", s.source)
	}
	// ipcluster 8 style: the environment only
	s, _ = configure(parse(), e)
	if s.source.ProfileDir != "/env/profile" || s.source.ClusterID != "envid" || !strings.Contains(s.source.Origin, "IPP_PROFILE_DIR") {
		t.Errorf("env: %+v", s.source)
	}
	// traits and the shell engine's own options
	s, err = configure(parse("--IPEngine.url_file=/f.json", "--IPEngine.wait_for_url_file=2.5", "--IPEngine.id=4",
		"--IPEngine.max_heartbeat_misses=7", "--shell=/bin/bash", "--timeout=1", "--Foo.bar=1"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.source.File != "/f.json" || s.source.Wait != 2500*time.Millisecond || s.cfg.ID == nil || *s.cfg.ID != 4 ||
		s.cfg.MaxHeartbeatMisses != 7 || strings.Join(s.cfg.Shell, " ") != "/bin/bash -c" || s.cfg.RegistrationTimeout != time.Second {
		t.Errorf("traits: %+v %+v", s.source, s.cfg)
	}
	s, _ = configure(parse("--shell", "bash -lc"), env(nil))
	if strings.Join(s.cfg.Shell, "|") != "bash|-lc" {
		t.Errorf("shell prefix: %q", s.cfg.Shell)
	}
}

// TestRunsAgainstController runs the whole command in-process against an in-process
// controller, found through the profile, and stops it as SIGTERM would.
func TestRunsAgainstController(t *testing.T) {
	dir := t.TempDir()
	ctl, err := controller.New(controller.Config{ProfileDir: dir, ClusterID: "x", Ping: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctlCtx, stopCtl := context.WithCancel(context.Background())
	ctlDone := make(chan error, 1)
	go func() { ctlDone <- ctl.Run(ctlCtx) }()
	defer func() { stopCtl(); <-ctlDone }()

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() {
		done <- run(ctx, []string{"--profile-dir", dir, "--cluster-id=x", "--id=3", "--quiet"}, env(nil), os.Stdout, &errOut)
	}()
	// the controller records registered engines in log/engines<cluster_id>.json
	state := filepath.Join(dir, "log", "enginesx.json")
	deadline := time.Now().Add(20 * time.Second)
	for {
		var s struct{ Engines map[string]string }
		if profiles.ReadJSON(state, &s) == nil && s.Engines["3"] != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine 3 never registered; stderr: %s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
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
