package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"ipcluster/cluster"
	"ipcluster/launchers"
	"ipcluster/traitconfig"
)

// ipcluster's flags for config settings are declared on the settings themselves, as
// ipcontroller's aliases are: a field with a flag tag in one of settingSources (see
// cluster.ClusterSettings for the tags). A flag given goes into the command-line layer as
// that setting's text, so that its value is decoded and checked exactly as the same line
// in ipcluster_config.py, and ranks defaults < config files < flags < --Class.trait=value.

// settingSources are the option structs that declare flags, with their config classes and
// defaults: the Cluster settings, and the login host of every batch launcher.
func settingSources() []cluster.ClassOptions {
	return []cluster.ClassOptions{
		{Class: "Cluster", Options: new(cluster.DefaultClusterSettings())},
		{Class: "BatchSystemLauncher", Options: &launchers.LoginOptions{}},
	}
}

// settingFlag is one declared flag.
type settingFlag struct {
	names        []string // the flag, then its aliases
	class, trait string
	commands     []string // the subcommands that take it
	help         string
	defaultText  string
}

func settingFlags() []settingFlag {
	var out []settingFlag
	for _, co := range settingSources() {
		specs, err := traitconfig.Describe(co.Options)
		if err != nil {
			panic(fmt.Sprintf("ipcluster: describe %s: %v", co.Class, err)) // a declaration bug, caught by every test
		}
		for _, sp := range specs {
			names, ok := sp.Tag.Lookup("flag")
			if !ok {
				continue
			}
			f := settingFlag{names: strings.Split(names, ","), class: co.Class, trait: sp.Name, commands: cluster.Commands(sp.Tag), help: sp.Help}
			if d, isText := sp.Default.(string); isText {
				f.defaultText = d
			} else if sp.Default != nil {
				f.defaultText = traitconfig.Literal(sp.Default)
			}
			out = append(out, f)
		}
	}
	return out
}

// settingFlagsOf are the flags the subcommand takes, in declaration order. They are text
// flags: the value is read by the setting's type when the configuration is decoded, as on
// ipyparallel's command line.
func settingFlagsOf(command string) []cli.Flag {
	var out []cli.Flag
	for _, f := range settingFlags() {
		if slices.Contains(f.commands, command) {
			out = append(out, &cli.StringFlag{Name: f.names[0], Aliases: f.names[1:], DefaultText: f.defaultText,
				Usage: fmt.Sprintf("%s (c.%s.%s)", f.help, f.class, f.trait)})
		}
	}
	return out
}

// commandLineLayer is the command-line layer of the configuration: the setting flags given,
// then the --Class.trait=value arguments. Errors name the flag as it was given (--n=x).
func commandLineLayer(c *cli.Context, traits []traitconfig.Trait) (*traitconfig.Config, error) {
	flags := &traitconfig.Config{}
	for _, f := range settingFlags() {
		if c.IsSet(f.names[0]) {
			v := c.String(f.names[0])
			flags.SetText(f.class, f.trait, v, traitconfig.Source{Name: "--" + f.names[0] + "=" + v})
		}
	}
	return traitconfig.Merge(flags, traitconfig.FromTraits(traits))
}
