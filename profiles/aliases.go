package profiles

import (
	"strings"

	"ipcluster/traitconfig"
)

// Alias is a command-line shortcut for traits, as traitlets' aliases and flags are:
// --ping=250 sets HeartMonitor.period, the flag --reuse sets IPController.reuse_files = True.
// Its help comes from the trait's declaration unless Help is given.
type Alias struct {
	Name  string              // the option, with dashes: "ping"
	Trait string              // "Class.trait" the option's value goes to; for a flag, empty or (Optional) where a value goes
	Set   []traitconfig.Trait // a flag: the traits it sets (Value is text, as on the command line)
	Flag  bool                // a flag that sets nothing (accepted for compatibility)
	// Optional lets a flag take a value as well (--mpi or --mpi=mpi4py): the value goes
	// to Trait, and Set applies either way.
	Optional bool
	Value    string // what the value is, for help ("MS"); default from the trait's type
	Help     string
}

// BaseAliases are the command-line options of every ipyparallel application (ipyparallel's
// base_aliases and base_flags): which cluster, where it works, how it logs. ipcontroller and
// ipengine list them with their own.
var BaseAliases = []Alias{
	{Name: "cluster-id", Trait: "BaseParallelApplication.cluster_id", Value: "ID"},
	{Name: "work-dir", Trait: "BaseParallelApplication.work_dir", Value: "DIR"},
	{Name: "log-level", Trait: "Application.log_level", Value: "LEVEL"},
	{Name: "log-to-file", Set: []traitconfig.Trait{{Class: "BaseParallelApplication", Name: "log_to_file", Value: "True"}}},
	{Name: "clean-logs", Trait: "BaseParallelApplication.clean_logs", Value: "BOOL"},
	{Name: "log-url", Trait: "BaseParallelApplication.log_url", Value: "URL"},
	{Name: "debug", Set: []traitconfig.Trait{{Class: "Application", Name: "log_level", Value: "10"}}, Help: "same as --log-level=DEBUG"},
	{Name: "quiet", Set: []traitconfig.Trait{{Class: "Application", Name: "log_level", Value: "50"}}, Help: "same as --log-level=CRITICAL"},
}

func (a Alias) flag() bool { return a.Flag || len(a.Set) > 0 }

// AliasOptions makes the command-line options of aliases, with the help of the traits they
// set (specs, as DescribeClasses gives them for cl) where the alias has none.
func AliasOptions(aliases []Alias, cl traitconfig.Classes, specs []traitconfig.ClassSpec) []Option {
	out := make([]Option, 0, len(aliases))
	for _, a := range aliases {
		o := Option{Name: a.Name, Flag: a.flag(), Optional: a.Optional, Value: a.Value, Help: a.Help}
		target := a.Trait
		if target == "" && len(a.Set) > 0 {
			target = a.Set[0].Class + "." + a.Set[0].Name
		}
		if sp, ok := findSpec(cl, specs, target); ok {
			if o.Help == "" {
				o.Help = sp.Help
			}
			if o.Value == "" {
				o.Value = strings.ToUpper(strings.Fields(sp.Type)[0])
			}
			o.Default = sp.Default
		}
		if o.Value == "" {
			o.Value = "VALUE"
		}
		out = append(out, o)
	}
	return out
}

func findSpec(cl traitconfig.Classes, specs []traitconfig.ClassSpec, trait string) (traitconfig.ClassSpec, bool) {
	class, name, ok := strings.Cut(trait, ".")
	if !ok {
		return traitconfig.ClassSpec{}, false
	}
	for _, sp := range specs {
		if sp.Name == name && sp.Class == cl.Main(class) {
			return sp, true
		}
	}
	return traitconfig.ClassSpec{}, false
}

// CommandLine is the command-line layer of a program's config: the aliases given in args,
// in command-line order, then the --Class.trait=value arguments themselves. Each alias sets
// the main class of its trait's chain (Classes.Main), so that the command line wins over
// config files, and names itself as the source ("--ping=soon: ...").
func CommandLine(args *Args, aliases []Alias, cl traitconfig.Classes) (*traitconfig.Config, error) {
	byName := make(map[string]Alias, len(aliases))
	for _, a := range aliases {
		byName[a.Name] = a
	}
	layer := &traitconfig.Config{}
	for _, name := range args.Given() {
		a, ok := byName[name]
		if !ok {
			continue
		}
		v, _ := args.Lookup(name)
		src := traitconfig.Source{Name: "--" + name}
		if !a.flag() || v != "" {
			src.Name += "=" + v
		}
		set := func(trait, value string) {
			class, tname, _ := strings.Cut(trait, ".")
			layer.SetText(cl.Main(class), tname, value, src)
		}
		for _, t := range a.Set {
			set(t.Class+"."+t.Name, t.Value)
		}
		if a.Trait != "" && (!a.flag() || v != "") {
			set(a.Trait, v)
		}
	}
	return traitconfig.Merge(layer, traitconfig.FromTraits(args.Traits))
}
