//go:build !libzmq

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The pure-Go build cannot encrypt: enable_curve, by trait or IPP_ENABLE_CURVE=1, stops the
// controller with one line that says which build can, instead of running in plaintext.
func TestPureGoBuildRefusesEnableCurve(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
	}{
		{"trait", []string{"--IPController.enable_curve=True"}, ""},
		{"environment", nil, "IPP_ENABLE_CURVE=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], tc.args...)
			cmd.Env = append(os.Environ(), "IPCONTROLLER_TEST_MAIN=1", "IPYTHONDIR="+dir, "IPP_SESSION_KEY=",
				"IPP_PROFILE_DIR=", "IPP_CLUSTER_ID=", "IPP_ENABLE_CURVE=", tc.env)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code == 0 {
				t.Errorf("exit code 0, want non-zero")
			}
			lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "make build-libzmq") {
				t.Errorf("stderr:\n%s\nwant one line naming make build-libzmq", stderr.String())
			}
			entries, _ := os.ReadDir(filepath.Join(dir, "profile_default", "security"))
			for _, e := range entries {
				t.Errorf("left behind: security/%s", e.Name())
			}
		})
	}
}
