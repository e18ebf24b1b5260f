package controller

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// With transport ipc the controller's sockets are unix-domain socket files named
// "<ip>:<n>", as ipyparallel's Client and engines build them from the connection file's
// interface ("ipc://<ip>") and port numbers. Anyone who can open a socket file can talk to
// the controller, so the files live in a directory only this user can enter.

// prepareIPC settles the path prefix of the socket files: an ip that is a path (it has a
// '/') is used as given, its directory made (0700) if missing; any other ip (the default
// 127.0.0.1) means a new private directory under $TMPDIR. A directory made here is
// removed when the controller stops (removeIPCDir).
func (c *Controller) prepareIPC() error {
	if c.cfg.Transport != "ipc" {
		return nil
	}
	if !strings.Contains(c.cfg.IP, "/") {
		dir, err := os.MkdirTemp("", "ipcontroller-")
		if err != nil {
			return fmt.Errorf("make a directory for the ipc socket files: %w", err)
		}
		c.ipcDir = dir
		c.cfg.IP = filepath.Join(dir, "ipp")
		return nil
	}
	dir := filepath.Dir(c.cfg.IP)
	err := os.Mkdir(dir, 0o700)
	switch {
	case err == nil:
		c.ipcDir = dir
	case !errors.Is(err, os.ErrExist):
		return fmt.Errorf("make the directory of the ipc socket files (c.IPController.ip = %q): %w", c.cfg.IP, err)
	default:
		return c.checkIPCDir(dir)
	}
	return nil
}

// checkIPCDir refuses a directory of someone else (who could replace the socket files; a
// reused connection file names a directory under /tmp that anyone may have made meanwhile)
// and warns about one that other users can enter.
func (c *Controller) checkIPCDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("check the directory of the ipc socket files: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s (the directory of c.IPController.ip = %q) is not a directory", dir, c.cfg.IP)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s (the directory of c.IPController.ip = %q) belongs to another user; "+
			"choose a directory of your own, or remove the connection files to start with a new one", dir, c.cfg.IP)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		c.log.Warn("other users can enter the directory of the ipc socket files, and so talk to the controller; chmod 700 it",
			"dir", dir, "mode", fi.Mode().Perm().String())
	}
	return nil
}

// removeIPCDir removes the socket directory made by prepareIPC (after the sockets closed).
func (c *Controller) removeIPCDir() {
	if c.ipcDir == "" {
		return
	}
	if err := os.RemoveAll(c.ipcDir); err != nil {
		c.log.Warn("remove ipc socket directory", "dir", c.ipcDir, "err", err)
	}
}
