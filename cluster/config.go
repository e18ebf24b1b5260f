package cluster

import (
	"slices"
	"time"

	"ipcluster/launchers"
	"ipcluster/profiles"
)

// ClusterSettings are ipyparallel's Cluster options (c.Cluster.n, or the older
// c.IPClusterEngines.n and c.IPClusterStart.n).
type ClusterSettings struct {
	N                  int           `config:"n" help:"number of engines to start"`
	EngineLauncher     string        `config:"engine_launcher_class" help:"engine launcher: local, mpi, ssh, or a batch system: slurm, pbs, pbspro, sge, lsf, htcondor, winhpc (ipyparallel class names such as 'MPI' work too)"`
	ControllerLauncher string        `config:"controller_launcher_class" help:"controller launcher: local, mpi, ssh, or a batch system: slurm, pbs, pbspro, sge, lsf, htcondor, winhpc"`
	ControllerIP       string        `config:"controller_ip" help:"address the controller binds; '*' for all interfaces (engines on other hosts)"`
	ControllerLocation string        `config:"controller_location" help:"controller host name written into the connection files"`
	Delay              float64       `config:"delay" help:"seconds between the controller being up and starting engines"`
	EngineTimeout      time.Duration `config:"engine_timeout" help:"seconds to wait for the engines to register (or a duration such as '90s'; 0: do not wait)"`
	EngineKind         string        `config:"engine_kind" help:"engines to start: 'python' (ipyparallel's engine: runs Python functions), 'go' (the Go ipengine: runs shell commands), or 'auto': python when this machine has a python3 that imports ipyparallel ($IPCLUSTER_PYTHON, python3 on PATH, /usr/bin/python3), else go; engine_cmd overrides it"`
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
var clusterChain = profiles.ChainOf("Cluster")

// FromConfig fills opts from an ipcluster configuration (the profile's ipcluster_config.py
// and .json, then command-line --Class.trait=value overrides), along ipyparallel's class
// chains: c.EngineLauncher.engine_cmd applies to every engine launcher,
// c.MPIEngineSetLauncher.engine_cmd only to MPI engines.
func FromConfig(cfg *profiles.Config, reg *launchers.Registry, opts *Options) error {
	cs := ClusterSettings{N: opts.N, EngineLauncher: opts.EngineLauncher, ControllerLauncher: opts.ControllerLauncher, Delay: opts.Delay,
		EngineKind: opts.EngineKind, EngineTimeout: opts.EngineTimeout}
	if err := cfg.Decode(clusterChain, &cs); err != nil {
		return err
	}
	opts.N, opts.EngineLauncher, opts.ControllerLauncher = cs.N, cs.EngineLauncher, cs.ControllerLauncher
	opts.ControllerIP, opts.ControllerLocation, opts.Delay = cs.ControllerIP, cs.ControllerLocation, cs.Delay
	if err := CheckEngineKind(cs.EngineKind); err != nil {
		return err
	}
	opts.EngineKind = cs.EngineKind
	opts.EngineTimeout = max(cs.EngineTimeout, 0) // 0: do not wait
	opts.Settings = configSettings{cfg}
	return nil
}

// ApplyLauncherConfig reads the controller and engine commands for the chosen launchers
// (call it after the launcher names are final).
func ApplyLauncherConfig(cfg *profiles.Config, reg *launchers.Registry, opts *Options) error {
	engines, err := reg.Lookup(defaultName(opts.EngineLauncher))
	if err != nil {
		return err
	}
	controller, err := reg.Lookup(defaultName(opts.ControllerLauncher))
	if err != nil {
		return err
	}
	es := EngineSettings{EngineCmd: opts.EngineCmd, EngineArgs: opts.EngineArgs}
	if err := cfg.Decode(profiles.ChainOf(engines.EngineClasses...), &es); err != nil {
		return err
	}
	cs := ControllerSettings{ControllerCmd: opts.ControllerCmd, ControllerArgs: opts.ControllerArgs}
	if err := cfg.Decode(profiles.ChainOf(controller.ControllerClasses...), &cs); err != nil {
		return err
	}
	// Build both launchers once now, so that a bad launcher setting (an SSH engines dict, say)
	// is reported before anything starts.
	for _, e := range []launchers.Entry{engines, controller} {
		if _, err := e.New(configSettings{cfg}); err != nil {
			return err
		}
	}
	opts.EngineCmd, opts.EngineArgs = es.EngineCmd, es.EngineArgs
	opts.ControllerCmd, opts.ControllerArgs = cs.ControllerCmd, cs.ControllerArgs
	return nil
}

func defaultName(name string) string {
	if name == "" {
		return "local"
	}
	return name
}

// configSettings lets launchers read their own options.
type configSettings struct{ cfg *profiles.Config }

func (s configSettings) Decode(classes []string, into any) error {
	return s.cfg.Decode(profiles.ChainOf(classes...), into)
}

// Documented lists each config class ipcluster reads with its options struct (holding the
// defaults), in the order `ipcluster profile create` writes them.
func Documented(reg *launchers.Registry) []ClassOptions {
	out := []ClassOptions{
		{"Cluster", &ClusterSettings{N: 4, EngineLauncher: "local", ControllerLauncher: "local", EngineTimeout: 60 * time.Second, EngineKind: EngineAuto}},
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
			specs, _ := profiles.Describe(o)
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
