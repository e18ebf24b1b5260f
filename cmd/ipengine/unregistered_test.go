package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipcluster/internal/testutil"
	"ipcluster/profiles"
	"ipcluster/runtime/controller"
)

// asEngine makes the test binary run as ipengine (the arguments after "--"), so that a test
// can stop and continue a real engine process.
const asEngine = "IPENGINE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asEngine) == "1" {
		args := os.Args[1:]
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		os.Exit(run(context.Background(), args, os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// logFile is a file to log to from several goroutines, read back as a string.
type logFile struct{ *os.File }

func newLogFile(t *testing.T, name string) logFile {
	f, err := os.Create(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return logFile{f}
}

func (l logFile) String() string {
	data, _ := os.ReadFile(l.Name())
	return string(data)
}

// registeredEngines reads the controller's engine table (log/engines<cluster_id>.json).
func registeredEngines(dir string) map[string]string {
	var s struct{ Engines map[string]string }
	_ = profiles.ReadJSON(filepath.Join(dir, "log", "enginesx.json"), &s)
	return s.Engines
}

// TestDroppedEngineExits stops a real engine process longer than the controller's heartbeat
// limit: the controller drops it, and once continued the engine learns that it is unknown
// and exits with an error that says so, instead of running on unregistered.
func TestDroppedEngineExits(t *testing.T) {
	dir := t.TempDir()
	ctlLog := newLogFile(t, "controller.log")
	serveController(t, controller.Config{ProfileDir: dir, ClusterID: "x", Ping: 100 * time.Millisecond, MaxMisses: 2,
		Logger: slog.New(slog.NewTextHandler(ctlLog, nil))})

	engineErr := newLogFile(t, "engine.log")
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "--profile-dir", dir, "--cluster-id=x")
	cmd.Env = append(os.Environ(), asEngine+"=1")
	cmd.Stderr = engineErr.File
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill() }()

	testutil.Eventually(t, 20*time.Second, "engine registered", func() bool { return len(registeredEngines(dir)) == 1 })
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "stopped engine dropped", func() bool { return len(registeredEngines(dir)) == 0 })
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitError {
			t.Errorf("engine exited with %v, want exit code %d", err, exitError)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("dropped engine still running 10 s after SIGCONT; stderr:\n%s", engineErr.String())
	}
	if !strings.Contains(engineErr.String(), "no longer knows engine 0") {
		t.Errorf("engine stderr does not say why it stopped:\n%s", engineErr.String())
	}
	if n := strings.Count(ctlLog.String(), "heartbeat from an engine this controller does not know"); n != 1 {
		t.Errorf("controller logged the unknown heart %d times, want once:\n%s", n, ctlLog.String())
	}
}
