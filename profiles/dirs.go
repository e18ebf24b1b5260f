// Package profiles knows IPython's directory layout ($IPYTHONDIR/profile_<name> with
// security/, log/, pid/), the connection and engine-state files kept there, which config
// files each program reads from it, the traitlets-style command lines (--name=value,
// aliases, --Class.trait=value) of ipyparallel's tools, and the settings every one of them
// has. The config language itself is package traitconfig.
package profiles

import (
	"fmt"
	"os"
	"path/filepath"
)

// IPythonDir returns $IPYTHONDIR, or ~/.ipython.
func IPythonDir() string {
	if d := os.Getenv("IPYTHONDIR"); d != "" {
		return expandHome(d)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "/"
	}
	return filepath.Join(home, ".ipython")
}

// Locate returns the profile directory: profileDir when given, otherwise
// <ipythonDir>/profile_<profile> (ipythonDir defaults to IPythonDir(), profile to "default").
func Locate(ipythonDir, profile, profileDir string) string {
	if profileDir != "" {
		return absolute(expandHome(profileDir))
	}
	if ipythonDir == "" {
		ipythonDir = IPythonDir()
	}
	if profile == "" {
		profile = "default"
	}
	return absolute(filepath.Join(expandHome(ipythonDir), "profile_"+profile))
}

// Dir is a profile directory.
type Dir string

// Security is where connection and cluster files live (mode 0700).
func (d Dir) Security() string { return filepath.Join(string(d), "security") }

// Log is where logs and the engine-state file live.
func (d Dir) Log() string { return filepath.Join(string(d), "log") }

// Pid is where pid files live (mode 0700).
func (d Dir) Pid() string { return filepath.Join(string(d), "pid") }

// Ensure creates the profile directory and its sub-directories, and tightens security/ and
// pid/ to 0700 if they exist with looser modes.
func (d Dir) Ensure() error {
	for _, sub := range []struct {
		path string
		mode os.FileMode
	}{
		{string(d), 0o755},
		{d.Security(), 0o700},
		{d.Log(), 0o755},
		{d.Pid(), 0o700},
		{filepath.Join(string(d), "startup"), 0o755},
	} {
		if err := os.MkdirAll(sub.path, sub.mode); err != nil {
			return fmt.Errorf("create profile directory: %w", err)
		}
		if sub.mode == 0o700 {
			if err := os.Chmod(sub.path, sub.mode); err != nil {
				return fmt.Errorf("secure %s: %w", sub.path, err)
			}
		}
	}
	return nil
}

func expandHome(p string) string {
	if p == "~" || len(p) > 1 && p[:2] == "~/" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

func absolute(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
