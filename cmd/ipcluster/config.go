package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"ipcluster/cluster"
	"ipcluster/launchers"
	"ipcluster/profiles"
	"ipcluster/runtime/controller"
	"ipcluster/runtime/engine"
	"ipcluster/traitconfig"
)

// loadOptions builds the cluster options: declared defaults < the profile's
// ipcluster_config.py and .json < the flags for config settings (settingFlags) <
// --Class.trait=value arguments.
// The caller applies the other flags (--work-dir), then reads the settings of the chosen
// launchers (cluster.ApplyLauncherConfig).
func loadOptions(c *cli.Context) (cluster.Options, *traitconfig.Config, error) {
	opts := cluster.Options{ProfileDir: profileDir(c), ClusterID: c.String("cluster-id"), Log: logger(c)}
	files, err := profiles.LoadProfile(opts.ProfileDir, "ipcluster")
	if err != nil {
		return opts, nil, err
	}
	traits, _ := c.App.Metadata["traits"].([]traitconfig.Trait)
	traits, _, _ = forwardedTraits(traits)      // the controller's and engines' go to them (clusterOptions)
	cmdline, err := commandLineLayer(c, traits) // the flags, then --Class.trait=value
	if err != nil {
		return opts, nil, err
	}
	// Old names (c.IPClusterEngines.n, engine_set_launcher_class, ...) are moved to today's
	// in each layer, so that a command-line --IPClusterEngines.n still beats the files.
	oldNames := cluster.OldNames(c.Command.Name)
	files, warnings := files.Rename(oldNames)
	args, argWarnings := cmdline.Rename(oldNames)
	cfg, err := traitconfig.Merge(files, args)
	if err != nil {
		return opts, nil, err
	}
	reg := launchers.Builtin()
	warnings = append(append(warnings, argWarnings...), cfg.Check(cluster.KnownTraits(reg))...)
	for _, w := range warnings {
		fmt.Fprintf(os.Stderr, "ipcluster: warning: %s\n", w)
	}
	if err := cluster.FromConfig(cfg, reg, &opts); err != nil {
		return opts, nil, err
	}
	return opts, cfg, nil
}

// configFiles are the commented config files `profile create` writes, generated from the
// option declarations.
func configFiles() map[string]string {
	var b strings.Builder
	b.WriteString("# Configuration file for ipcluster (ipcluster in Go).\n#\n" +
		"# Every option is listed with its default. Uncomment and edit to change one. The file is\n" +
		"# Python, run with traitlets as ipyparallel runs it (this needs python3 with traitlets;\n" +
		"# without it only literal assignments are read). ipyparallel's class names work (a value on\n" +
		"# EngineLauncher applies to every engine launcher, one on MPIEngineSetLauncher only to MPI\n" +
		"# engines).\n\nc = get_config()  # noqa\n")
	for _, co := range cluster.Documented(launchers.Builtin()) {
		specs, err := traitconfig.Describe(co.Options)
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "\n#------------------------------------------------------------------------------\n# %s\n", co.Class)
		for _, sp := range specs {
			fmt.Fprintf(&b, "\n# %s (%s)\n# c.%s.%s = %s\n", sp.Help, sp.Type, co.Class, sp.Name, traitconfig.Literal(sp.Default))
		}
	}
	return map[string]string{
		"ipcluster_config.py":    b.String(),
		"ipcontroller_config.py": controller.SampleConfig(),
		"ipengine_config.py":     engine.SampleConfig(),
	}
}

// splitTraits takes ipyparallel's --Class.trait=value arguments out of argv (the flag parser
// would refuse them).
func splitTraits(argv []string) ([]string, []traitconfig.Trait, error) {
	var rest []string
	var traits []traitconfig.Trait
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if a == "--" {
			rest = append(rest, argv[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		class, trait, dotted := strings.Cut(name, ".")
		if !strings.HasPrefix(a, "--") || !dotted || class == "" || trait == "" {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 >= len(argv) {
				return nil, nil, fmt.Errorf("--%s needs a value", name)
			}
			i++
			value = argv[i]
		}
		traits = append(traits, traitconfig.Trait{Class: class, Name: trait, Value: value})
	}
	return rest, traits, nil
}
