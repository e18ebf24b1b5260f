package cluster

import (
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"ipcluster/launchers"
	"ipcluster/runtime/controller"
	"ipcluster/traitconfig"
)

// Options describe a cluster to start. FromConfig fills the Cluster settings (over their
// declared defaults) and ApplyLauncherConfig the chosen launchers' commands; they are
// embedded as declared, so that a setting has one field.
type Options struct {
	ProfileDir string
	ClusterID  string

	ClusterSettings
	ControllerSettings // controller_cmd default: ipcontroller beside ipcluster
	EngineSettings     // engine_cmd default: chosen by EngineKind (see ChooseEngine)
	// SizeByLauncher: n was not set (neither -n nor a config file), so a launcher that knows
	// its size (an SSH engines dict) says how many engines a set has; N does otherwise.
	SizeByLauncher bool
	WorkDir        string

	ControllerTimeout time.Duration // for the connection files; default 60 s
	Launchers         *launchers.Registry
	Settings          launchers.Settings // launcher options from the configuration
	Log               *slog.Logger
	Progress          func(Progress) // called on every change while starting

	engine        *EngineChoice // made by ChooseEngine
	inheritedKind bool          // EngineKind is that of the cluster's engines (Attach)
}

func (o *Options) setDefaults() {
	if o.ControllerTimeout <= 0 {
		o.ControllerTimeout = 60 * time.Second
	}
	if o.EngineTimeout < 0 {
		o.EngineTimeout = 0 // as 0: do not wait
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

// Commands are the ipcluster subcommands that take a setting as a flag and read it (its
// cmd tag, see ClusterSettings; start without one).
func Commands(tag reflect.StructTag) []string {
	if cmds, ok := tag.Lookup("cmd"); ok {
		return strings.Split(cmds, ",")
	}
	return []string{"start"}
}

// controllerOptions are the Cluster settings declared with a controller tag that are set,
// as the controller's command-line options: its alias for the trait where it has one
// (--ip=*), else --Class.trait=value. ipyparallel's ipcontroller takes the same.
func controllerOptions(s ClusterSettings) []string {
	specs, err := traitconfig.Describe(&s)
	if err != nil {
		panic(err) // a declaration bug every test catches
	}
	var out []string
	for _, sp := range specs {
		trait, ok := sp.Tag.Lookup("controller")
		if !ok || unset(sp.Default) {
			continue
		}
		name := trait
		for _, a := range controller.Aliases {
			if a.Trait == trait && len(a.Set) == 0 {
				name = a.Name
			}
		}
		value, isText := sp.Default.(string)
		if !isText {
			value = traitconfig.Literal(sp.Default)
		}
		out = append(out, "--"+name+"="+value)
	}
	return out
}

// unset tells whether a setting's value (plain data) is its type's zero: not passed on.
func unset(v any) bool {
	switch v := v.(type) {
	case string:
		return v == ""
	case int64:
		return v == 0
	case float64:
		return v == 0
	case bool:
		return !v
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return v == nil
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
