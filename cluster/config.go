package cluster

import (
	"slices"
	"time"

	"ipcluster/launchers"
	"ipcluster/traitconfig"
)

// ClusterSettings are ipyparallel's Cluster options (c.Cluster.n, or the older
// c.IPClusterEngines.n and c.IPClusterStart.n). Options embeds them as they are.
//
// Each option is declared here once: to add one, add a field with its tags and nothing
// else. The tags (traitconfig.Describe has the first ones):
//
//	config:"name"       the trait, c.Cluster.name (old classes too: IPClusterStart.name ...)
//	help:"..."          one line for `ipcluster profile create`, --help and warnings
//	default:"..."       the default, as command-line text of the field's type (none: zero)
//	min:"0"             numbers: the least value; less is an error naming the option and
//	                    where it was set (file:line or --flag=value)
//	flag:"name"         an ipcluster flag too, --name (-n for one letter; "name,alias" for
//	                    more), with the help, "c.Cluster.name" and the default in --help;
//	                    its value is read and checked as the same line in a config file
//	cmd:"start,engines" the subcommands that take the flag (default: start); `ipcluster
//	                    engines` ignores c.IPClusterStart.name for these, with a warning
//	controller:"Class.trait"  passed on to the controller when set, as its command-line
//	                    option for that trait (--ip=value; --Class.trait=value without one)
//
// Decoded by FromConfig; the flags are made in cmd/ipcluster (flags.go).
type ClusterSettings struct {
	N                  int           `config:"n" default:"4" min:"0" flag:"n" cmd:"start,engines" help:"number of engines to start (0: the controller alone); unless -n or a config file sets it, an SSH engines dict gives the number"`
	EngineLauncher     string        `config:"engine_launcher_class" default:"local" flag:"engines" cmd:"start,engines" help:"engine launcher: local, mpi, ssh, or a batch system: slurm, pbs, pbspro, sge, lsf, htcondor, winhpc (ipyparallel class names such as 'MPI' work too)"`
	ControllerLauncher string        `config:"controller_launcher_class" default:"local" flag:"controller" help:"controller launcher: local, mpi, ssh, or a batch system: slurm, pbs, pbspro, sge, lsf, htcondor, winhpc"`
	ControllerIP       string        `config:"controller_ip" flag:"ip" controller:"IPController.ip" help:"address the controller binds; '*' for all interfaces (engines on other hosts)"`
	ControllerLocation string        `config:"controller_location" flag:"location" controller:"IPController.location" help:"controller host name written into the connection files"`
	Delay              float64       `config:"delay" flag:"delay" help:"seconds between the controller being up and starting engines"`
	EngineTimeout      time.Duration `config:"engine_timeout" default:"60" flag:"timeout" cmd:"start,engines" help:"seconds to wait for the engines to register (or a duration such as '90s'; 0: do not wait)"`
	EngineKind         string        `config:"engine_kind" default:"auto" flag:"engine-kind" cmd:"start,engines" help:"engines to start: 'python' (ipyparallel's engine: runs Python functions), 'go' (the Go ipengine: runs shell commands), or 'auto': python when this machine has a python3 that imports ipyparallel ($IPCLUSTER_PYTHON, python3 on PATH, /usr/bin/python3), else go (for 'ipcluster engines': the kind of the cluster's engines); engine_cmd overrides it"`
}

// DefaultClusterSettings are the Cluster settings with their declared defaults.
func DefaultClusterSettings() ClusterSettings {
	var s ClusterSettings
	if err := traitconfig.Defaults(&s); err != nil {
		panic(err) // a bad default tag: a declaration bug every test catches
	}
	return s
}

// ControllerSettings are the ControllerLauncher options.
type ControllerSettings struct {
	ControllerCmd  []string `config:"controller_cmd" help:"command that starts the controller (default: the Go ipcontroller beside ipcluster; ['/usr/bin/python3', '-m', 'ipyparallel.controller'] for Python's)"`
	ControllerArgs []string `config:"controller_args" help:"extra command-line arguments for the controller"`
}

// EngineSettings are the EngineLauncher options.
type EngineSettings struct {
	EngineCmd  []string `config:"engine_cmd" help:"command that starts an engine (default: the Go ipengine beside ipcluster; ['/usr/bin/python3', '-m', 'ipyparallel.engine'] for Python engines)"`
	EngineArgs []string `config:"engine_args" help:"extra command-line arguments for each engine"`
}

// clusterChain is the Cluster class. Older configs' names for its settings
// (c.IPClusterEngines.n, c.IPClusterStart.controller_launcher, ...) are moved onto it by
// OldNames before it is read.
var clusterChain = traitconfig.ChainOf("Cluster")

// FromConfig fills opts' Cluster settings from an ipcluster configuration (the profile's
// ipcluster_config.py and .json, then the command line), over the declared defaults, and
// keeps the configuration for the launchers (see ApplyLauncherConfig). A launcher's own
// settings are read along ipyparallel's class chains: c.EngineLauncher.engine_cmd applies
// to every engine launcher, c.MPIEngineSetLauncher.engine_cmd only to MPI engines.
func FromConfig(cfg *traitconfig.Config, reg *launchers.Registry, opts *Options) error {
	cs := DefaultClusterSettings()
	if err := cfg.Decode(clusterChain, &cs); err != nil {
		return err
	}
	if err := CheckEngineKind(cs.EngineKind); err != nil {
		return err
	}
	_, nGiven, _ := cfg.Lookup(clusterChain, "n")
	opts.ClusterSettings, opts.SizeByLauncher = cs, !nGiven
	opts.Settings = configSettings{cfg}
	return nil
}

// ApplyLauncherConfig reads the controller and engine commands for the chosen launchers
// (call it after the launcher names are final).
func ApplyLauncherConfig(cfg *traitconfig.Config, reg *launchers.Registry, opts *Options) error {
	engines, err := reg.Lookup(opts.EngineLauncher)
	if err != nil {
		return err
	}
	controller, err := reg.Lookup(opts.ControllerLauncher)
	if err != nil {
		return err
	}
	if err := cfg.Decode(traitconfig.ChainOf(engines.EngineClasses...), &opts.EngineSettings); err != nil {
		return err
	}
	if err := cfg.Decode(traitconfig.ChainOf(controller.ControllerClasses...), &opts.ControllerSettings); err != nil {
		return err
	}
	// Build both launchers once now, so that a bad launcher setting (an SSH engines dict, say)
	// is reported before anything starts.
	for _, e := range []launchers.Entry{engines, controller} {
		if _, err := e.New(configSettings{cfg}); err != nil {
			return err
		}
	}
	return nil
}

// configSettings lets launchers read their own options.
type configSettings struct{ cfg *traitconfig.Config }

func (s configSettings) Decode(classes []string, into any) error {
	return s.cfg.Decode(traitconfig.ChainOf(classes...), into)
}

// Documented lists each config class ipcluster reads with its options struct (holding the
// defaults), in the order `ipcluster profile create` writes them.
func Documented(reg *launchers.Registry) []ClassOptions {
	out := []ClassOptions{
		{"Cluster", new(DefaultClusterSettings())},
		{"ControllerLauncher", &ControllerSettings{}},
		{"EngineLauncher", &EngineSettings{}},
	}
	for _, name := range reg.Names() {
		if e, _ := reg.Lookup(name); e.OptionsClass != "" {
			out = append(out, ClassOptions{e.OptionsClass, e.Options()})
		}
	}
	return out
}

// ClassOptions is a config class and its options.
type ClassOptions struct {
	Class   string
	Options any
}

// KnownTraits maps every config class ipcluster reads to its trait names, for warnings
// about unknown names.
func KnownTraits(reg *launchers.Registry) map[string][]string {
	known := map[string][]string{}
	add := func(classes []string, opts ...any) {
		for _, o := range opts {
			specs, _ := traitconfig.Describe(o)
			for _, class := range classes {
				for _, sp := range specs {
					if !slices.Contains(known[class], sp.Name) {
						known[class] = append(known[class], sp.Name)
					}
				}
			}
		}
	}
	add(append(clusterChain.Classes(), oldClusterClasses...), &ClusterSettings{})
	for _, name := range reg.Names() {
		e, _ := reg.Lookup(name)
		var extra []any
		if e.OptionsClass != "" {
			extra = append(extra, e.Options())
		}
		add(e.EngineClasses, append(extra, &EngineSettings{})...)
		add(e.ControllerClasses, append(extra, &ControllerSettings{})...)
	}
	return known
}
