package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ipengine --ssh and --sshkey, and the same traits in ipengine_config.py, as ipyparallel's
// engine takes them; paramiko is accepted and ignored.
func TestConfigureSSH(t *testing.T) {
	s, log, err := configure(t, nil, "--profile-dir", t.TempDir(), "--ssh=me@gw:2200", "--sshkey=/keys/id", "--IPEngine.paramiko=True")
	if err != nil {
		t.Fatal(err)
	}
	if s.Config.SSHServer != "me@gw:2200" || s.Config.SSHKey != "/keys/id" || strings.Contains(log, "paramiko") {
		t.Errorf("sshserver %q sshkey %q; log %q", s.Config.SSHServer, s.Config.SSHKey, log)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ipengine_config.py"), []byte("c.IPEngine.sshserver = 'login.example'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, _, err = configure(t, nil, "--profile-dir", dir); err != nil || s.Config.SSHServer != "login.example" {
		t.Errorf("from ipengine_config.py: %q, %v", s.Config.SSHServer, err)
	}
}
