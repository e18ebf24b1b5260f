package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

// The controller starts with its soft open-file limit raised to the hard one (8 connections
// per engine: 10,000 engines need 80,000), and says how many engines fit.
func TestControllerRaisesTheOpenFileLimit(t *testing.T) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Max <= 512 {
		t.Fatalf("the hard open-file limit here is %d: nothing to raise a soft limit of 512 to", rl.Max)
	}
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile_x")
	// a shell lowers the soft limit, as a login's default 1024 would be, and runs the controller
	cmd := exec.Command("/bin/sh", "-c", `ulimit -Sn 512 && exec "$0" "$@"`, os.Args[0], "--profile-dir="+profile, "--ip=127.0.0.1")
	cmd.Env = append(os.Environ(), "IPCONTROLLER_TEST_MAIN=1", "IPYTHONDIR="+dir, "IPP_SESSION_KEY=", "IPP_PROFILE_DIR=", "IPP_CLUSTER_ID=")
	var stderr testutil.LogBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	engineFile := filepath.Join(profile, "security", "ipcontroller-engine.json")
	if !testutil.Within(20*time.Second, func() bool {
		_, err := os.Stat(engineFile)
		return err == nil && strings.Contains(stderr.String(), "open-file limit")
	}) {
		t.Fatalf("controller not ready within 20 s; stderr:\n%s", stderr.String())
	}
	limits, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/limits")
	if err != nil {
		t.Fatal(err)
	}
	var soft, hard string
	for _, line := range strings.Split(string(limits), "\n") {
		if f := strings.Fields(line); strings.HasPrefix(line, "Max open files") && len(f) >= 5 {
			soft, hard = f[3], f[4]
		}
	}
	if soft == "" || soft != hard || soft != strconv.FormatUint(rl.Max, 10) {
		t.Errorf("controller's open-file limit soft %s hard %s, want both %d", soft, hard, rl.Max)
	}
	if !strings.Contains(stderr.String(), "room_for_engines=") {
		t.Errorf("the log does not say how many engines fit:\n%s", stderr.String())
	}
}
