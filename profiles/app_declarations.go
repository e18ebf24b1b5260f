package profiles

import (
	"slices"

	"ipcluster/traitconfig"
)

// AppDeclarations are one program's option declarations (ipcontroller's, ipengine's): the
// classes its options are declared on, its command-line aliases, and its option structs.
// From them come its command-line options, the trait list of --help and the commented
// config file `ipcluster profile create` writes, so an option is declared in one place.
type AppDeclarations struct {
	Title   string              // the first paragraph of its sample config file
	Classes traitconfig.Classes // class -> the chain that reads it
	Aliases []Alias             // command-line options and the traits they set
	Order   []string            // classes in the order --help and the sample file list them
	// Structs returns the option structs, holding the defaults.
	Structs func() []any
}

// Specs describes every option, grouped by class in Order.
func (d AppDeclarations) Specs() []traitconfig.ClassSpec {
	var out []traitconfig.ClassSpec
	for _, v := range d.Structs() {
		specs, err := traitconfig.DescribeClasses(d.Classes, v)
		if err != nil {
			panic(err) // a bad declaration: a programming error the program's tests catch
		}
		out = append(out, specs...)
	}
	slices.SortStableFunc(out, func(a, b traitconfig.ClassSpec) int {
		return slices.Index(d.Order, a.Class) - slices.Index(d.Order, b.Class)
	})
	return out
}

// Options are the program's command-line options (for ParseArgs and --help): the profile
// location options, then the aliases.
func (d AppDeclarations) Options() []Option {
	return append(append([]Option(nil), LocationOptions...), AliasOptions(d.Aliases, d.Classes, d.Specs())...)
}

// SampleConfig is the commented config file of a new profile.
func (d AppDeclarations) SampleConfig() string {
	return traitconfig.SampleConfig(d.Title+"\n\nEvery option is listed with its default; uncomment and edit to change one.", d.Specs())
}
