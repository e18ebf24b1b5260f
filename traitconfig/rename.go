package traitconfig

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
)

// OldName is a spelling of a setting that older ipyparallel versions (and their manual)
// used, and the name it has today. Config files keep working with the old name, with a
// warning naming today's.
type OldName struct {
	Class, Trait       string // as an old config file writes it: c.IPClusterEngines.engine_launcher
	NewClass, NewTrait string // today's name: c.Cluster.engine_launcher_class
	// Ignored, when set, drops the assignment instead and says why (an old class that does
	// not apply to this command, say); NewClass and NewTrait still say what it would set.
	Ignored string
}

// Rename returns c with every assignment to an old name moved to today's name, and a
// warning for each. When several names set the same setting, today's name wins, then the
// old names in the order given (list the most specific class first, as traitlets lets a
// subclass's value win over its parents' whatever the order of the lines).
func (c *Config) Rename(old []OldName) (*Config, []Warning) {
	rank := map[[2]string]int{}
	rule := map[[2]string]OldName{}
	for i, o := range old {
		key := [2]string{o.Class, o.Trait}
		if _, dup := rank[key]; !dup {
			rank[key], rule[key] = i, o
		}
	}
	out := &Config{files: c.files}
	type candidate struct {
		a    Assignment
		rank int // -1: today's name itself
	}
	winners := map[[2]string]candidate{}
	var losers []candidate
	var warnings []Warning
	all := c.Assignments()
	for _, a := range all {
		key := [2]string{a.Class, a.Trait}
		o, isOld := rule[key]
		if !isOld {
			continue
		}
		if o.Ignored != "" {
			warnings = append(warnings, Warning{Source: a.Source, Class: a.Class, Trait: a.Trait,
				Message: fmt.Sprintf("%s is ignored: %s", a.Name(), o.Ignored)})
			continue
		}
		target := [2]string{o.NewClass, o.NewTrait}
		cand := candidate{a, rank[key]}
		if cur, ok := c.Get(o.NewClass, o.NewTrait); ok {
			winners[target] = candidate{cur, -1}
		}
		if w, ok := winners[target]; ok && w.rank < cand.rank {
			losers = append(losers, cand)
			continue
		} else if ok {
			losers = append(losers, w)
		}
		winners[target] = cand
		warnings = append(warnings, Warning{Source: a.Source, Class: a.Class, Trait: a.Trait, Suggestion: o.NewTrait,
			Message: fmt.Sprintf("%s is an old name; today it is c.%s.%s (used as that)", a.Name(), o.NewClass, o.NewTrait)})
	}
	for _, l := range losers {
		o := rule[[2]string{l.a.Class, l.a.Trait}]
		w := winners[[2]string{o.NewClass, o.NewTrait}]
		warnings = append(warnings, Warning{Source: l.a.Source, Class: l.a.Class, Trait: l.a.Trait,
			Message: fmt.Sprintf("%s = %s is ignored: %s = %s (%s) takes precedence", l.a.Name(), valueText(l.a), w.a.Name(), valueText(w.a), w.a.Source)})
	}
	for _, a := range all {
		key := [2]string{a.Class, a.Trait}
		if _, isOld := rule[key]; isOld {
			continue
		}
		if w, ok := winners[key]; ok && w.rank >= 0 {
			continue // replaced by the old name's value below
		}
		out.put(a)
	}
	targets := slices.SortedFunc(maps.Keys(winners), func(x, y [2]string) int {
		return cmp.Or(cmp.Compare(x[0], y[0]), cmp.Compare(x[1], y[1]))
	})
	for _, target := range targets {
		if w := winners[target]; w.rank >= 0 {
			a := w.a
			a.Class, a.Trait = target[0], target[1]
			out.put(a)
		}
	}
	return out, warnings
}

// valueText shows an assignment's value for messages.
func valueText(a Assignment) string {
	switch {
	case len(a.Text) == 1:
		return a.Text[0]
	case a.Lazy != nil:
		return "(appended/updated)"
	}
	return Literal(a.Value)
}
