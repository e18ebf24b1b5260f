package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"ipcluster/cluster"
	"ipcluster/launchers"
	"ipcluster/profiles"
)

// clusterAliases are ipcluster's flags for config settings, as ipcontroller's aliases are:
// each sets its trait in the command-line layer, so that the value is decoded and checked
// exactly as the same line in ipcluster_config.py, and ranks defaults < config files <
// flags < --Class.trait=value. Their help and defaults come from the traits' declarations
// (cluster.ClusterSettings, launchers.LoginOptions).
var clusterAliases = []profiles.Alias{
	{Name: "n", Trait: "Cluster.n"},
	{Name: "engines", Trait: "Cluster.engine_launcher_class"},
	{Name: "engine-kind", Trait: "Cluster.engine_kind"},
	{Name: "controller", Trait: "Cluster.controller_launcher_class"},
	{Name: "ip", Trait: "Cluster.controller_ip"},
	{Name: "location", Trait: "Cluster.controller_location"},
	{Name: "delay", Trait: "Cluster.delay"},
	{Name: "timeout", Trait: "Cluster.engine_timeout"},
	{Name: "ssh-host", Trait: "BatchSystemLauncher.ssh_host"},
}

// aliasOptions are clusterAliases with the help, value type and default of their traits.
func aliasOptions() []profiles.Option {
	classes := append(cluster.Documented(launchers.Builtin()), cluster.ClassOptions{Class: "BatchSystemLauncher", Options: &launchers.LoginOptions{}})
	var specs []profiles.ClassSpec
	for _, co := range classes {
		traits, err := profiles.Describe(co.Options)
		if err != nil {
			panic(fmt.Sprintf("ipcluster: describe %s: %v", co.Class, err)) // a declaration bug, caught by every test
		}
		for _, sp := range traits {
			specs = append(specs, profiles.ClassSpec{Class: co.Class, TraitSpec: sp})
		}
	}
	return profiles.AliasOptions(clusterAliases, profiles.Classes{}, specs)
}

// aliasFlags makes the named alias flags. They are text flags: the value is read by the
// trait's type when the configuration is decoded, as on ipyparallel's command line.
func aliasFlags(names ...string) []cli.Flag {
	byName := map[string]profiles.Option{}
	for _, o := range aliasOptions() {
		byName[o.Name] = o
	}
	out := make([]cli.Flag, len(names))
	for i, name := range names {
		o, ok := byName[name]
		if !ok {
			panic("ipcluster: no alias " + name)
		}
		f := &cli.StringFlag{Name: o.Name, Usage: fmt.Sprintf("%s (c.%s)", o.Help, traitOf(o.Name))}
		switch d := o.Default.(type) {
		case nil:
		case string:
			f.DefaultText = d
		default:
			f.DefaultText = profiles.Literal(d)
		}
		out[i] = f
	}
	return out
}

func traitOf(alias string) string {
	for _, a := range clusterAliases {
		if a.Name == alias {
			return a.Trait
		}
	}
	return ""
}

// commandLineLayer is the command-line layer of the configuration: the alias flags given,
// then the --Class.trait=value arguments.
func commandLineLayer(c *cli.Context, traits []profiles.Trait) (*profiles.Config, error) {
	var argv []string
	for _, a := range clusterAliases {
		if c.IsSet(a.Name) {
			argv = append(argv, "--"+a.Name+"="+c.String(a.Name))
		}
	}
	args, err := profiles.ParseArgs(argv, aliasOptions())
	if err != nil {
		return nil, err
	}
	args.Traits = traits
	return profiles.CommandLine(args, clusterAliases, profiles.Classes{})
}
