package traitconfig

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Classes says, for one program, which class chain reads the options declared on each
// class. A program's settings struct (the controller's, the engine's) tags each option
// with the class that declares it in ipyparallel (class:"HeartMonitor",
// class:"BaseParallelApplication"); Classes maps that class to the chain of the object
// that has the trait in the running program, so that c.IPController.work_dir and
// c.BaseParallelApplication.work_dir both reach the controller's work_dir, as traitlets
// applies a parent class's section to every subclass instance.
type Classes map[string]Chain

// Chain returns the chain reading class, or the class alone.
func (cl Classes) Chain(class string) Chain {
	if ch, ok := cl[class]; ok {
		return ch
	}
	return ChainOf(class)
}

// Main is the most specific name of the chain reading class: where the program's own
// command-line aliases and environment put their values, so that they win over any file
// value on a subclass (see Lookup), and how generated config files spell the class.
func (cl Classes) Main(class string) string {
	ch := cl.Chain(class)
	if len(ch) == 0 || len(ch[0]) == 0 {
		return class
	}
	return ch[0][0]
}

// DecodeClasses sets the options of the struct dst points to, each read along the chain of
// the class its class tag names. Untagged options are read along the chain of "". Every
// problem is reported, each naming its source.
func (c *Config) DecodeClasses(cl Classes, dst any) error {
	return c.decodeAlong(dst, cl.Chain)
}

// ClassSpec is a declared option with the class a config file names it by.
type ClassSpec struct {
	Class string // the main class of its chain: c.<Class>.<Name>
	TraitSpec
}

// DescribeClasses is Describe for structs whose options carry class tags: each option
// comes with the main class of its chain (see Classes.Main).
func DescribeClasses(cl Classes, v any) ([]ClassSpec, error) {
	specs, err := Describe(v)
	if err != nil {
		return nil, err
	}
	rt := reflect.TypeOf(v)
	if rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	fields, err := fieldsOf(rt)
	if err != nil {
		return nil, err
	}
	out := make([]ClassSpec, len(specs))
	for i, s := range specs {
		out[i] = ClassSpec{Class: cl.Main(fields[i].class), TraitSpec: s}
	}
	return out, nil
}

// Known adds the trait names of the option structs to known (as Check takes it): every
// class name of the chain reading an option knows it, as traitlets reads a parent class's
// section for a subclass.
func (cl Classes) Known(known map[string][]string, structs ...any) error {
	for _, v := range structs {
		rt := reflect.TypeOf(v)
		if rt.Kind() == reflect.Pointer {
			rt = rt.Elem()
		}
		fields, err := fieldsOf(rt)
		if err != nil {
			return err
		}
		for _, f := range fields {
			for _, class := range cl.Chain(f.class).Classes() {
				if !slices.Contains(known[class], f.name) {
					known[class] = append(known[class], f.name)
				}
			}
		}
	}
	for class := range known {
		sort.Strings(known[class])
	}
	return nil
}

// SampleConfig is the text of a commented config file listing the options with their
// defaults and help, grouped by class in the order given: what `ipcluster profile create`
// writes. header is the opening comment, without the leading "# ".
func SampleConfig(header string, specs []ClassSpec) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(header), "\n") {
		b.WriteString(strings.TrimRight("# "+line, " ") + "\n")
	}
	b.WriteString("\nc = get_config()  # noqa\n")
	last := ""
	for _, sp := range specs {
		if sp.Class != last {
			fmt.Fprintf(&b, "\n#------------------------------------------------------------------------------\n# %s\n", sp.Class)
			last = sp.Class
		}
		fmt.Fprintf(&b, "\n# %s (%s)\n# c.%s.%s = %s\n", sp.Help, sp.Type, sp.Class, sp.Name, Literal(sp.Default))
	}
	return b.String()
}

// TraitUsage lists options as --Class.trait=value lines with their type, default and help,
// for --help.
func TraitUsage(specs []ClassSpec) string {
	var b strings.Builder
	for _, sp := range specs {
		help := sp.Help
		if !strings.Contains(help, "default") {
			help += " (default " + Literal(sp.Default) + ")"
		}
		fmt.Fprintf(&b, "  --%s.%s=<%s>\n      %s\n", sp.Class, sp.Name, sp.Type, help)
	}
	return b.String()
}
