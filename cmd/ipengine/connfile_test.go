package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipcluster/profiles"
	"ipcluster/runtime/controller"
)

// A connection file that cannot be used (not JSON, empty, truncated, a port that is not a
// number, no key) stops the engine at once: exit 1 within 2 s and one line on stderr that
// names the file and what is wrong, instead of 30 s of silence.
func TestBadConnectionFileFailsAtOnce(t *testing.T) {
	dir := t.TempDir()
	good := `{"interface": "tcp://127.0.0.1", "registration": 5555, "control": 5556, "mux": 5557, "task": 5558,
		"iopub": 5559, "hb_ping": 5560, "hb_pong": 5561, "broadcast": [5562], "key": "k", "signature_scheme": "hmac-sha256"}`
	for _, tc := range []struct{ name, content, says string }{
		{"notjson", "this is not JSON\n", "is not JSON"},
		{"empty", "", "is empty"},
		{"truncated", good[:len(good)/2], "is truncated"},
		{"porttype", strings.Replace(good, `"registration": 5555`, `"registration": "5555"`, 1),
			`has "registration" as a string, not a port number`},
		{"nokey", strings.Replace(good, `"key": "k", `, "", 1), "missing key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name+".json")
			if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "--file="+file)
			cmd.Env = append(os.Environ(), asEngine+"=1", "IPP_SESSION_KEY=")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != exitError {
				t.Errorf("exit: %v, want code %d", err, exitError)
			}
			if took > 2*time.Second {
				t.Errorf("took %s, want under 2 s", took.Round(time.Millisecond))
			}
			lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], file) || !strings.Contains(lines[0], tc.says) {
				t.Errorf("stderr %q: want one line naming %s and saying %q", stderr.String(), file, tc.says)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout: %q", stdout.String())
			}
		})
	}
}

// A file whose key is not the controller's: the controller's log says the signature does not
// match this cluster's key, and the engine, left without a registration reply, names a key
// mismatch as a likely cause and the file whose key it used.
func TestWrongKeyIsNamedOnBothSides(t *testing.T) {
	dir := t.TempDir()
	ctlLog := newLogFile(t, "controller.log")
	serveController(t, controller.Config{ProfileDir: dir, ClusterID: "x", Ping: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(ctlLog, nil))})

	var info map[string]any
	if err := profiles.ReadJSON(profiles.ConnectionFile(dir, "x", "engine"), &info); err != nil {
		t.Fatal(err)
	}
	info["key"] = "a-key-from-another-cluster"
	wrong := filepath.Join(t.TempDir(), "other-cluster-engine.json")
	data, _ := json.Marshal(info)
	if err := os.WriteFile(wrong, data, 0o600); err != nil {
		t.Fatal(err)
	}

	code, _, errOut := runArgs(t, context.Background(), env(nil), "--file="+wrong, "--timeout=1", "--log-level=CRITICAL")
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	for _, want := range []string{"no registration_reply", "key mismatch", wrong} {
		if !strings.Contains(errOut, want) {
			t.Errorf("engine stderr does not say %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(ctlLog.String(), "signature does not match this cluster's key") {
		t.Errorf("controller log does not name the key mismatch:\n%s", ctlLog.String())
	}
}
