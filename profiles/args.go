package profiles

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"ipcluster/traitconfig"
)

// ErrHelp is returned by ParseArgs for -h, --help and --help-all.
var ErrHelp = errors.New("help requested")

// Option is one command-line option of a traitlets-style tool (ipcontroller, ipengine).
type Option struct {
	Name string // with dashes: "profile-dir"
	Flag bool   // takes no value (--reuse)
	// Optional makes a flag also accept a value in the --name=value form (never the next
	// argument): ipengine's --mpi and --mpi=mpi4py.
	Optional bool
	Value    string // what the value is, for help: "DIR", "MS"
	Help     string
	Default  any // an alias's trait default as plain data (see Describe), for help; nil if unknown
}

// Args is a parsed command line.
type Args struct {
	values map[string]string
	order  []string // option names in the order given
	Traits []traitconfig.Trait
	Rest   []string // after "--"
}

// Has reports whether the option was given.
func (a *Args) Has(name string) bool { _, ok := a.values[name]; return ok }

// Get returns the option's value ("" when absent or a flag).
func (a *Args) Get(name string) string { return a.values[name] }

// Given lists the options given, in command-line order (each once, where it was last given).
func (a *Args) Given() []string { return append([]string(nil), a.order...) }

// Lookup returns the option's value and whether it was given.
func (a *Args) Lookup(name string) (string, bool) { v, ok := a.values[name]; return v, ok }

// ParseArgs parses argv the way traitlets does: --name=value, --name value, --flag, and
// --Class.trait=value (or --Class.trait value). Underscores in names count as dashes. An
// empty value is kept (ipcluster 7 passes --cluster-id ”). Unknown options are errors that
// name the closest known option.
func ParseArgs(argv []string, opts []Option) (*Args, error) {
	known := make(map[string]Option, len(opts))
	for _, o := range opts {
		known[o.Name] = o
	}
	a := &Args{values: map[string]string{}}
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		switch {
		case arg == "--":
			a.Rest = append(a.Rest, argv[i+1:]...)
			return a, nil
		case arg == "-h" || arg == "--help" || arg == "--help-all":
			return nil, ErrHelp
		case !strings.HasPrefix(arg, "-") || arg == "-":
			return nil, fmt.Errorf("unexpected argument %q (options look like --name=value)", arg)
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if class, trait, ok := strings.Cut(name, "."); ok && class != "" && trait != "" {
			if !hasValue {
				if i+1 >= len(argv) {
					return nil, fmt.Errorf("--%s needs a value", name)
				}
				i++
				value = argv[i]
			}
			a.Traits = append(a.Traits, traitconfig.Trait{Class: class, Name: trait, Value: value})
			continue
		}
		name = strings.ReplaceAll(name, "_", "-")
		o, ok := known[name]
		if !ok {
			return nil, unknownOption(name, opts)
		}
		switch {
		case o.Flag && hasValue && !o.Optional:
			return nil, fmt.Errorf("--%s takes no value", name)
		case o.Flag && !hasValue:
			value = ""
		case o.Flag:
		case !hasValue:
			if i+1 >= len(argv) {
				return nil, fmt.Errorf("--%s needs a value (%s)", name, o.Value)
			}
			i++
			value = argv[i]
		}
		a.values[name] = value
		a.order = append(slices.DeleteFunc(a.order, func(n string) bool { return n == name }), name)
	}
	return a, nil
}

func unknownOption(name string, opts []Option) error {
	names := make([]string, len(opts))
	for i, o := range opts {
		names[i] = o.Name
	}
	if best, ok := traitconfig.Closest(name, names); ok {
		return fmt.Errorf("unrecognized option --%s (did you mean --%s?)", name, best)
	}
	return fmt.Errorf("unrecognized option --%s (see --help)", name)
}

// Usage renders the options for --help.
func Usage(opts []Option) string {
	sorted := append([]Option(nil), opts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var b strings.Builder
	for _, o := range sorted {
		left := "--" + o.Name
		if len(o.Name) == 1 {
			left = "-" + o.Name // as traitlets shows its one-letter aliases (-c, -s)
		}
		switch {
		case !o.Flag:
			left += "=" + o.Value
		case o.Optional:
			left += "[=" + o.Value + "]"
		}
		fmt.Fprintf(&b, "  %-28s %s\n", left, o.Help)
	}
	return b.String()
}
