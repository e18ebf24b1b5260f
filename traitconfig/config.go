// Package traitconfig is the configuration language of ipyparallel's tools, as traitlets
// defines it: c.Class.trait = value assignments read from Python config files (the literal
// subset here, anything else by a Python with traitlets), traitlets JSON files and
// --Class.trait=value text; layered, and read through ipyparallel's class chains, as
// traitlets does; checked for unknown and old names; and decoded into Go option structs,
// whose tagged fields declare each option once (Describe, Decode).
package traitconfig

import (
	"fmt"
	"sort"
	"strconv"
)

// Config holds traitlets-style assignments (c.Class.trait = value) with where each came
// from. Values are plain Go data: string, int64, float64, bool, nil, []any (lists and
// tuples) and map[string]any (dicts). The zero value is an empty Config ready to use.
//
// A Config is built from one source (a file, the environment, the command line) and layered
// with Merge; Lookup and Decode then read it through ipyparallel's class chains.
type Config struct {
	values map[string]map[string]Assignment
	files  []string
	seq    int // increases with every assignment: orders aliases by recency
}

// Assignment is one c.Class.trait setting after merging.
type Assignment struct {
	Class, Trait string
	// Value is the value set. It is nil when the trait was only extended or updated (Lazy).
	Value any
	// Lazy holds .append/.extend/.prepend/.update (and +=) on a trait that was not set
	// first: traitlets applies them to the trait's default, and so does Decode.
	Lazy *Lazy
	// Text is set for values given as text (command line, environment): traitlets reads
	// such text according to the trait's type, so "007" stays a string for a string trait.
	// Value then holds the text read as a Python literal when it is one (else the text).
	// A trait given several times on the command line has several texts.
	Text   []string
	Source Source
	seq    int
}

// Name is "c.Class.trait", the way a config file spells it.
func (a Assignment) Name() string { return "c." + a.Class + "." + a.Trait }

// Source says where an assignment came from: a file and line, or a name such as a
// command-line option or an environment variable (Line 0).
type Source struct {
	Name string
	Line int
}

func (s Source) String() string {
	if s.Line > 0 {
		return s.Name + ":" + strconv.Itoa(s.Line)
	}
	return s.Name
}

// Error is a problem with a config value or file, reported as "source: message".
type Error struct {
	Source Source
	Msg    string
}

func (e *Error) Error() string { return e.Source.String() + ": " + e.Msg }

// Set assigns a plain value (see Config), replacing any earlier one.
func (c *Config) Set(class, trait string, v any, src Source) {
	c.put(Assignment{Class: class, Trait: trait, Value: v, Source: src})
}

// SetText assigns a value given as text, as on the command line (--Class.trait=text) or in
// the environment: see Assignment.Text.
func (c *Config) SetText(class, trait, text string, src Source) {
	c.put(Assignment{Class: class, Trait: trait, Value: textValue(text), Text: []string{text}, Source: src})
}

// Trait is a --Class.trait=value assignment.
type Trait struct {
	Class, Name, Value string
}

func (t Trait) String() string { return t.Class + "." + t.Name + "=" + t.Value }

// FromTraits makes the command-line layer from parsed --Class.trait=value options. A trait
// given more than once collects its values, as traitlets does for list traits.
func FromTraits(traits []Trait) *Config {
	c := &Config{}
	for _, t := range traits {
		src := Source{Name: "--" + t.String()}
		if prev, ok := c.Get(t.Class, t.Name); ok {
			texts := append(append([]string(nil), prev.Text...), t.Value)
			vals := make([]any, len(texts))
			for i, s := range texts {
				vals[i] = textValue(s)
			}
			c.put(Assignment{Class: t.Class, Trait: t.Name, Value: vals, Text: texts, Source: src})
			continue
		}
		c.SetText(t.Class, t.Name, t.Value, src)
	}
	return c
}

// textValue reads command-line text as traitlets does before it knows the trait's type: a
// Python literal when it is one, else the text itself.
func textValue(s string) any {
	if v, err := parseLiteral(s); err == nil {
		return v
	}
	return s
}

// Get returns the assignment of class.trait in this Config (no class chain).
func (c *Config) Get(class, trait string) (Assignment, bool) {
	a, ok := c.values[class][trait]
	return a, ok
}

// Assignments returns every assignment, sorted by class and trait.
func (c *Config) Assignments() []Assignment {
	var out []Assignment
	for _, traits := range c.values {
		for _, a := range traits {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Class != out[j].Class {
			return out[i].Class < out[j].Class
		}
		return out[i].Trait < out[j].Trait
	})
	return out
}

// Files lists the config files read into this Config, in the order they were read.
func (c *Config) Files() []string { return append([]string(nil), c.files...) }

// Merge layers configs: a later one wins over an earlier one (defaults, profile files,
// environment, command line). A later append/extend/update applies to the earlier value, as
// traitlets' Config.merge does; it fails when that value is not a list or dict.
func Merge(layers ...*Config) (*Config, error) {
	out := &Config{}
	for _, l := range layers {
		if l == nil {
			continue
		}
		out.files = append(out.files, l.files...)
		all := l.Assignments()
		sort.SliceStable(all, func(i, j int) bool { return all[i].seq < all[j].seq })
		for _, a := range all {
			if err := out.apply(a); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// apply merges a into the Config: a plain value replaces, a lazy one combines.
func (c *Config) apply(a Assignment) error {
	prev, ok := c.Get(a.Class, a.Trait)
	if !ok {
		c.put(a)
		return nil
	}
	m, err := combine(prev, a)
	if err != nil {
		return err
	}
	c.put(m)
	return nil
}

func (c *Config) put(a Assignment) {
	if c.values == nil {
		c.values = map[string]map[string]Assignment{}
	}
	if c.values[a.Class] == nil {
		c.values[a.Class] = map[string]Assignment{}
	}
	c.seq++
	a.seq = c.seq
	c.values[a.Class][a.Trait] = a
}

// combine returns next layered over prev, which may belong to another class of a chain.
func combine(prev, next Assignment) (Assignment, error) {
	if next.Lazy == nil {
		return next, nil
	}
	if prev.Lazy != nil {
		l, err := prev.Lazy.then(next.Lazy)
		if err != nil {
			return Assignment{}, &Error{next.Source, next.Name() + ": " + err.Error()}
		}
		next.Lazy = l
		return next, nil
	}
	base := prev.Value
	if _, isList := base.([]any); prev.Text != nil && !isList && next.Lazy.isList() {
		// Text given for a list trait is a list of one item per text, as Decode reads it.
		items := make([]any, len(prev.Text))
		for i, s := range prev.Text {
			items[i] = s
		}
		base = items
	}
	v, err := next.Lazy.Apply(base)
	if err != nil {
		return Assignment{}, &Error{next.Source, fmt.Sprintf("%s: %v (%s is set at %s)",
			next.Name(), err, prev.Name(), prev.Source)}
	}
	next.Value, next.Lazy = v, nil
	return next, nil
}

// Chain is a configurable class and its bases, most specific first, the way ipyparallel's
// class hierarchy orders them. Each link is a class name followed by other names config
// files may use for the same class, e.g. {"Cluster", "IPClusterEngines", "IPClusterStart"}.
type Chain [][]string

// ChainOf makes a Chain of classes without aliases.
func ChainOf(classes ...string) Chain {
	ch := make(Chain, len(classes))
	for i, c := range classes {
		ch[i] = []string{c}
	}
	return ch
}

// Classes lists every class name in the chain, aliases included.
func (ch Chain) Classes() []string {
	var out []string
	for _, link := range ch {
		out = append(out, link...)
	}
	return out
}

// Lookup returns the value of trait for the chain, as traitlets computes it: values on
// base classes are overridden by values on more specific classes (whatever layer they
// came from) and lazy appends/updates apply on top. Within one link the most recently
// assigned name wins, so a command-line --IPClusterEngines.n beats a file's c.Cluster.n.
// The result's Class and Source are those of the most specific contribution.
func (c *Config) Lookup(chain Chain, trait string) (Assignment, bool, error) {
	var found []Assignment
	for i := len(chain) - 1; i >= 0; i-- {
		var link []Assignment
		for _, class := range chain[i] {
			if a, ok := c.Get(class, trait); ok {
				link = append(link, a)
			}
		}
		sort.Slice(link, func(i, j int) bool { return link[i].seq < link[j].seq })
		found = append(found, link...)
	}
	if len(found) == 0 {
		return Assignment{}, false, nil
	}
	out := found[0]
	for _, a := range found[1:] {
		var err error
		if out, err = combine(out, a); err != nil {
			return Assignment{}, false, err
		}
	}
	return out, true, nil
}
