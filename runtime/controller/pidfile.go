package controller

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"ipcluster/profiles"
)

// PIDFile is where the controller records its process id while it runs, named as
// ipyparallel's apps name theirs: <profile>/pid/ipcontroller.pid, or
// ipcontroller-<cluster_id>.pid for a cluster id, so that controllers of different
// clusters in one profile do not overwrite each other's.
func (c *Controller) PIDFile() string { return c.cfg.pidFile() }

func (c *Config) pidFile() string {
	name := "ipcontroller.pid"
	if c.ClusterID != "" {
		name = "ipcontroller-" + c.ClusterID + ".pid"
	}
	return filepath.Join(profiles.Dir(c.ProfileDir).Pid(), name)
}

// writePIDFile records this process's id. A file left by a controller that crashed is
// replaced, as ipyparallel's controller does.
func (c *Controller) writePIDFile() error {
	path := c.PIDFile()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

// removePIDFile removes the pid file if it is still ours (another controller started
// since with the same name owns it otherwise).
func (c *Controller) removePIDFile() {
	path := c.PIDFile()
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if !bytes.Equal(bytes.TrimSpace(data), []byte(strconv.Itoa(os.Getpid()))) {
		return
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		c.log.Warn("remove pid file", "file", path, "err", err)
	}
}
