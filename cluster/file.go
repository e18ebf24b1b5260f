// Package cluster is a cluster's lifecycle: start its controller and engine sets through
// launchers, wait until the engines register, record everything in the cluster file, and
// stop, list and clean up clusters from any process that can read that file.
package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"ipcluster/launchers"
	"ipcluster/profiles"
)

// File is security/cluster-<id>.json, shaped like ipyparallel's: the cluster's settings, its
// controller and its engine sets, each with the launcher that started it and its state.
type File struct {
	Cluster    Settings       `json:"cluster"`
	Controller *LauncherState `json:"controller,omitempty"`
	Engines    EngineSets     `json:"engines"`
	path       string
}

// Settings are the cluster-wide values.
type Settings struct {
	ClusterID          string   `json:"cluster_id"`
	ProfileDir         string   `json:"profile_dir"`
	N                  int      `json:"n"`
	ControllerArgs     []string `json:"controller_args"`
	ControllerIP       string   `json:"controller_ip"`
	ControllerLocation string   `json:"controller_location"`
	Delay              float64  `json:"delay"`
	Class              string   `json:"class"`
	PID                int      `json:"ipcluster_pid,omitempty"` // the ipcluster that started it (0 once daemonized)
	// ExternalController: the controller was started by someone else (`ipcontroller` by
	// hand, then `ipcluster engines`); ipcluster stops only the engines it started.
	ExternalController bool `json:"external_controller,omitempty"`
}

// LauncherState is a controller or engine set: the launcher's name and what it started.
type LauncherState struct {
	Class string            `json:"class"`
	State *launchers.Handle `json:"state"`
}

// EngineSets are the engine sets by id.
type EngineSets struct {
	Class string                       `json:"class"`
	Sets  map[string]*launchers.Handle `json:"sets"`
	Kinds map[string]string            `json:"engine_kinds,omitempty"` // set id -> go or python, when known
}

// FilePath is the cluster file of a cluster in a profile.
func FilePath(profileDir, clusterID string) string {
	return filepath.Join(profiles.Dir(profileDir).Security(), "cluster-"+clusterID+".json")
}

// ReadFile reads a cluster file.
func ReadFile(path string) (*File, error) {
	f := &File{path: path}
	if err := profiles.ReadJSON(path, f); err != nil {
		return nil, err
	}
	if f.Engines.Sets == nil {
		f.Engines.Sets = map[string]*launchers.Handle{}
	}
	return f, nil
}

// Save writes the file (0600: it leads to processes and jobs a user can stop).
func (f *File) Save() error {
	return profiles.WriteSecret(f.path, f)
}

// Remove deletes the file.
func (f *File) Remove() error {
	if err := os.Remove(f.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Path is where the file lives.
func (f *File) Path() string { return f.path }

// Files lists the cluster files of a profile, sorted.
func Files(profileDir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(profiles.Dir(profileDir).Security(), "cluster-*.json"))
	sort.Strings(paths)
	return paths, err
}

// Profiles lists the profile directories under an IPython directory.
func Profiles(ipythonDir string) ([]string, error) {
	dirs, err := filepath.Glob(filepath.Join(ipythonDir, "profile_*"))
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	sort.Strings(dirs)
	return dirs, nil
}
