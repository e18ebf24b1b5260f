package cluster

import (
	"maps"
	"slices"

	"ipcluster/traitconfig"
)

// Before ipyparallel 7, the cluster's settings were traits of the ipcluster applications:
// IPClusterEngines (`ipcluster engines`) and its subclass IPClusterStart (`ipcluster start`).
// ipyparallel 7 moved them to Cluster and still reads the old spellings; the manual uses
// both. IPClusterApp is the name of the ipcluster application before 7.
var oldClusterClasses = []string{"IPClusterStart", "IPClusterEngines", "IPClusterApp"}

// oldTraitNames are the launcher settings' names before 0.12 (engine_launcher,
// controller_launcher) and the name the manual uses (engine_set_launcher_class).
var oldTraitNames = map[string]string{
	"engine_launcher":           "engine_launcher_class",
	"engine_set_launcher":       "engine_launcher_class",
	"engine_set_launcher_class": "engine_launcher_class",
	"controller_launcher":       "controller_launcher_class",
}

// OldNames lists the old spellings of the Cluster settings and today's names, for
// traitconfig.Config.Rename, as the ipcluster subcommand command ("start", "engines", ...)
// reads them. The order is traitlets' precedence: c.Cluster.x itself wins, then a
// subclass's value over its parents' (IPClusterStart over IPClusterEngines) whatever the
// order of the lines. `ipcluster engines` is IPClusterEngines, which a value set on its
// subclass IPClusterStart does not reach: those are ignored there, with a warning.
func OldNames(command string) []traitconfig.OldName {
	specs, _ := traitconfig.Describe(&ClusterSettings{})
	var traits, engineTraits []string // engineTraits: those `ipcluster engines` reads
	for _, sp := range specs {
		traits = append(traits, sp.Name)
		if slices.Contains(Commands(sp.Tag), "engines") {
			engineTraits = append(engineTraits, sp.Name)
		}
	}
	oldTraits := slices.Sorted(maps.Keys(oldTraitNames))
	var out []traitconfig.OldName
	for _, old := range oldTraits {
		out = append(out, traitconfig.OldName{Class: "Cluster", Trait: old, NewClass: "Cluster", NewTrait: oldTraitNames[old]})
	}
	for _, class := range oldClusterClasses {
		for _, trait := range append(slices.Clone(traits), oldTraits...) {
			o := traitconfig.OldName{Class: class, Trait: trait, NewClass: "Cluster", NewTrait: trait}
			if t, ok := oldTraitNames[trait]; ok {
				o.NewTrait = t
			}
			if command == "engines" && class == "IPClusterStart" && slices.Contains(engineTraits, o.NewTrait) {
				o.Ignored = "IPClusterStart settings apply to `ipcluster start` only; `ipcluster engines` reads c.Cluster." +
					o.NewTrait + " (or the older c.IPClusterEngines." + o.NewTrait + ")"
			}
			out = append(out, o)
		}
	}
	return out
}
