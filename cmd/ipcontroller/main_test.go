package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"ipcluster/internal/version"
	"ipcluster/runtime/transport"
)

// TestMain lets the tests run this very binary as ipcontroller: with IPCONTROLLER_TEST_MAIN
// set, the test binary is the command.
func TestMain(m *testing.M) {
	if os.Getenv("IPCONTROLLER_TEST_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// ipcontroller runs the command in a scratch IPython directory and returns its exit code
// and stderr.
func ipcontroller(t *testing.T, ipythonDir string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "IPCONTROLLER_TEST_MAIN=1", "IPYTHONDIR="+ipythonDir, "IPP_SESSION_KEY=", "IPP_PROFILE_DIR=", "IPP_CLUSTER_ID=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

func TestBindFailuresAreOneLineErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"address not on this host", []string{"--ip=192.0.2.1"},
			"ipcontroller: cannot bind tcp://192.0.2.1:0 (registration): cannot assign requested address — the address is not on this host; use --ip=127.0.0.1 or '*'"},
		{"port in use", []string{"--ports=" + busyPort, "--cluster-id=c1"},
			"ipcontroller: cannot bind tcp://127.0.0.1:" + busyPort + " (registration): address already in use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, stderr := ipcontroller(t, dir, tc.args...)
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], tc.want) {
				t.Errorf("stderr:\n%s\nwant one line starting with:\n%s", stderr, tc.want)
			}
			for _, sub := range []string{"security", "pid"} {
				entries, _ := os.ReadDir(filepath.Join(dir, "profile_default", sub))
				for _, e := range entries {
					t.Errorf("left behind: %s/%s", sub, e.Name())
				}
			}
		})
	}
}

// --version names the program's version and the ZeroMQ transport the binary was built with
// (pure-Go or libzmq).
func TestVersionNamesTheTransport(t *testing.T) {
	cmd := exec.Command(os.Args[0], "--version")
	cmd.Env = append(os.Environ(), "IPCONTROLLER_TEST_MAIN=1")
	out, err := cmd.Output()
	if want := "ipcontroller " + version.String() + " (ipcluster in Go), transport: " + transport.Backend() + "\n"; err != nil || string(out) != want {
		t.Errorf("--version: %v %q, want %q", err, out, want)
	}
}
