package controller

import (
	"encoding/json"
	"fmt"
)

// dependency is ipyparallel's Dependency: a set of msg_ids with the flags all (every id, or
// any one), success (finishing ok counts) and failure (finishing in error counts).
type dependency struct {
	ids                   stringSet // nil while empty
	all, success, failure bool
}

func (d *dependency) add(id string) {
	if d.ids == nil {
		d.ids = stringSet{}
	}
	d.ids.add(id)
}

// parseDependency reads "after"/"follow" metadata: null, a list of msg_ids, or the dict form
// {"dependencies": [...], "all": true, "success": true, "failure": false}.
func parseDependency(raw json.RawMessage) (dependency, error) {
	d := dependency{all: true, success: true}
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "[]" { // "[]": what LoadBalancedView sends by default
		return d, nil
	}
	var ids []string
	if json.Unmarshal(raw, &ids) == nil {
		for _, id := range ids {
			d.add(id)
		}
		return d, nil
	}
	var dict struct {
		Dependencies []string `json:"dependencies"`
		All          *bool    `json:"all"`
		Success      *bool    `json:"success"`
		Failure      *bool    `json:"failure"`
	}
	if err := json.Unmarshal(raw, &dict); err != nil {
		return d, fmt.Errorf("dependency is neither a list of msg_ids nor a dict: %s", raw)
	}
	for _, id := range dict.Dependencies {
		d.add(id)
	}
	if dict.All != nil {
		d.all = *dict.All
	}
	if dict.Success != nil {
		d.success = *dict.Success
	}
	if dict.Failure != nil {
		d.failure = *dict.Failure
	}
	return d, nil
}

func (d dependency) empty() bool { return len(d.ids) == 0 }

// against is the set of finished ids that a dependency with these flags counts.
func against(useCompleted, useFailed bool, completed, failed stringSet) func(string) bool {
	return func(id string) bool {
		return useCompleted && completed.has(id) || useFailed && failed.has(id)
	}
}

// met reports whether the dependency is satisfied.
func (d dependency) met(completed, failed stringSet) bool {
	if d.empty() {
		return true
	}
	return d.matches(against(d.success, d.failure, completed, failed))
}

// unreachable reports whether the dependency can no longer be satisfied.
func (d dependency) unreachable(completed, failed stringSet) bool {
	if d.empty() {
		return false
	}
	bad := against(!d.success, !d.failure, completed, failed)
	if d.all { // any one finishing the wrong way breaks "all"
		for id := range d.ids {
			if bad(id) {
				return true
			}
		}
		return false
	}
	for id := range d.ids { // "any" breaks only when every one finished the wrong way
		if !bad(id) {
			return false
		}
	}
	return true
}

func (d dependency) matches(in func(string) bool) bool {
	if d.all {
		for id := range d.ids {
			if !in(id) {
				return false
			}
		}
		return true
	}
	for id := range d.ids {
		if in(id) {
			return true
		}
	}
	return false
}

// without returns a copy without the ids in drop.
func (d dependency) without(drop stringSet) dependency {
	out := d
	out.ids = nil
	for id := range d.ids {
		if !drop.has(id) {
			out.add(id)
		}
	}
	return out
}
