package controller

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func ipcController(t *testing.T, ip string) (*Controller, *bytes.Buffer) {
	var log bytes.Buffer
	return &Controller{cfg: Config{Transport: "ipc", IP: ip}, log: slog.New(slog.NewTextHandler(&log, nil))}, &log
}

func TestIPCWithoutAPathGetsAPrivateDirectoryRemovedOnExit(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	c, _ := ipcController(t, "127.0.0.1")
	if err := c.prepareIPC(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(c.cfg.IP)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 || !strings.HasPrefix(dir, os.Getenv("TMPDIR")) {
		t.Fatalf("socket prefix %s: directory %v, %v (want a new 0700 directory under $TMPDIR)", c.cfg.IP, fi.Mode(), err)
	}
	os.WriteFile(c.cfg.IP+":1", nil, 0o600) // a socket file left behind
	c.removeIPCDir()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s left after exit: %v", dir, err)
	}
}

func TestIPCPathPrefixDirectoryIsMadePrivateOrChecked(t *testing.T) {
	base := t.TempDir()
	c, _ := ipcController(t, filepath.Join(base, "ipp", "sock"))
	if err := c.prepareIPC(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(base, "ipp")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("missing directory not made 0700: %v, %v", fi, err)
	}
	c.removeIPCDir()

	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o755)
	c, log := ipcController(t, filepath.Join(open, "sock"))
	if err := c.prepareIPC(); err != nil || !strings.Contains(log.String(), "chmod 700") {
		t.Fatalf("an existing open directory: err %v, log %q (want a warning)", err, log.String())
	}
	c.removeIPCDir()
	if _, err := os.Stat(open); err != nil {
		t.Fatalf("a directory the user made was removed: %v", err)
	}

	if os.Getuid() == 0 { // only root can give a directory to another user
		theirs := filepath.Join(base, "theirs")
		os.Mkdir(theirs, 0o700)
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		c, _ := ipcController(t, filepath.Join(theirs, "sock"))
		if err := c.prepareIPC(); err == nil || !strings.Contains(err.Error(), "another user") {
			t.Fatalf("another user's directory: err %v", err)
		}
	}
}
