package cluster

import (
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"ipcluster/launchers"
)

// Options describe a cluster to start (see FromConfig for the config keys).
type Options struct {
	ProfileDir string
	ClusterID  string

	N                  int
	EngineLauncher     string
	ControllerLauncher string
	ControllerIP       string
	ControllerLocation string
	ControllerCmd      []string // default: ipcontroller beside ipcluster
	ControllerArgs     []string
	EngineCmd          []string // default: chosen by EngineKind (see ChooseEngine)
	EngineKind         string   // auto (default), go or python
	EngineArgs         []string
	Delay              float64 // seconds between the controller being up and starting engines
	WorkDir            string

	ControllerTimeout time.Duration // for the connection files; default 60 s
	EngineTimeout     time.Duration // for all engines to register; default 60 s (0 = do not wait)
	Launchers         *launchers.Registry
	Settings          launchers.Settings // launcher options from the configuration
	Log               *slog.Logger
	Progress          func(Progress) // called on every change while starting

	engine        *EngineChoice // made by ChooseEngine
	inheritedKind bool          // EngineKind is that of the cluster's engines (Attach)
}

func (o *Options) setDefaults() {
	if o.N <= 0 {
		o.N = 4
	}
	if o.EngineLauncher == "" {
		o.EngineLauncher = "local"
	}
	if o.ControllerLauncher == "" {
		o.ControllerLauncher = "local"
	}
	if o.ControllerTimeout <= 0 {
		o.ControllerTimeout = 60 * time.Second
	}
	if o.EngineTimeout < 0 {
		o.EngineTimeout = 0
	}
	if o.Launchers == nil {
		o.Launchers = launchers.Builtin()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = func(Progress) {}
	}
	if len(o.ControllerCmd) == 0 {
		o.ControllerCmd = []string{Sibling("ipcontroller")}
	}
	if len(o.EngineCmd) == 0 { // callers that did not call ChooseEngine (Start and Attach do)
		if _, err := o.ChooseEngine(); err != nil {
			o.EngineCmd = []string{Sibling("ipengine")}
		}
	}
}

// Sibling finds one of our programs: beside the running executable first (so a built tree
// uses its own binaries), then on PATH.
func Sibling(name string) string {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return name
}

// Progress is a snapshot while a cluster starts.
type Progress struct {
	Step       string // "controller", "engine-kind" (Note says which engine and why), "engines", "ready"
	Note       string
	Controller launchers.State
	Engines    launchers.State
	Registered int
	Requested  int
	// Job ids of batch launchers, shown with their states.
	ControllerJobs, EngineJobs []string
}
