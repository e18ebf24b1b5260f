package traitconfig

import (
	"slices"
	"sort"
	"strings"
)

// Warning is a config assignment that nothing will read: a misspelt class or trait, or a
// setting of ipyparallel that this program does not have.
type Warning struct {
	Source       Source
	Class, Trait string
	Suggestion   string // the closest known class or trait name, if one is close
	Message      string // "c.SlurmEngineSetLauncher.acount: unknown trait; did you mean account?"
}

func (w Warning) String() string { return w.Source.String() + ": " + w.Message }

// Check reports the assignments whose class or trait is not known. known maps each class
// name (aliases included) to its trait names, as KnownTraits makes them; a class mapped to
// nil accepts any trait, for classes whose settings are read elsewhere or ignored on purpose.
// Warnings come sorted by class and trait.
func (c *Config) Check(known map[string][]string) []Warning {
	classes := make([]string, 0, len(known))
	for k := range known {
		classes = append(classes, k)
	}
	sort.Strings(classes)
	var out []Warning
	for _, a := range c.Assignments() {
		w := Warning{Source: a.Source, Class: a.Class, Trait: a.Trait}
		traits, ok := known[a.Class]
		switch {
		case !ok:
			w.Message = a.Name() + ": unknown class"
			if best, ok := suggest(a.Class, classes); ok {
				w.Suggestion = best
				w.Message += "; did you mean " + best + "?"
			}
		case traits == nil || slices.Contains(traits, a.Trait):
			continue
		default:
			w.Message = a.Name() + ": unknown trait"
			if best, ok := suggest(a.Trait, traits); ok {
				w.Suggestion = best
				w.Message += "; did you mean " + best + "?"
			} else {
				w.Message += " (" + a.Class + " has " + strings.Join(traits, ", ") + ")"
			}
		}
		out = append(out, w)
	}
	return out
}

// suggest is Closest with a tighter bound: class names share long suffixes ("Launcher"),
// and a far-fetched "did you mean" misleads more than none.
func suggest(name string, candidates []string) (string, bool) {
	best, ok := Closest(name, candidates)
	if !ok || editDistance(strings.ToLower(name), strings.ToLower(best)) > 1+len(name)/4 {
		return "", false
	}
	return best, true
}

// Closest returns the candidate nearest to name, if it is near enough to be a likely typo.
func Closest(name string, candidates []string) (string, bool) {
	best, bestDist := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best, best != "" && bestDist <= len(name)/2+1
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
