package launchers

import (
	"fmt"
	"sort"
	"strings"
)

// Entry is a launcher the registry can build.
type Entry struct {
	Name    string   // what --engines= and --controller= take: local, mpi, ...
	Aliases []string // ipyparallel class names that select it
	// Classes are the config classes read for the engine-set and controller launchers, most
	// specific first: ipyparallel's method resolution order (MPIExec* are MPI's deprecated
	// subclasses, read as old names of the MPI classes).
	EngineClasses, ControllerClasses []string
	// OptionsClass and Options declare the launcher's own settings (with their defaults),
	// read from that class and the more specific ones of the chains.
	OptionsClass string
	Options      func() any
	New          func(s Settings) (Launcher, error)
}

// Settings reads a launcher's options from the configuration, along a class chain.
type Settings interface {
	Decode(classes []string, into any) error
}

// Registry maps names to launchers.
type Registry struct{ entries []Entry }

// Builtin returns the launchers this package provides.
func Builtin() *Registry {
	entries := append(processEntries(), batchEntries()...)
	return &Registry{entries: append(entries, sshEntries()...)}
}

// processEntries are the launchers that run local processes.
func processEntries() []Entry {
	return []Entry{
		{
			Name:              "local",
			Aliases:           []string{"LocalEngineSetLauncher", "LocalControllerLauncher", "LocalEngineLauncher"},
			EngineClasses:     []string{"LocalEngineSetLauncher", "LocalEngineLauncher", "LocalProcessLauncher", "EngineLauncher", "BaseLauncher"},
			ControllerClasses: []string{"LocalControllerLauncher", "LocalProcessLauncher", "ControllerLauncher", "BaseLauncher"},
			New:               func(Settings) (Launcher, error) { return NewLocal(), nil },
		},
		{
			Name:              "mpi",
			Aliases:           []string{"MPIEngineSetLauncher", "MPIControllerLauncher", "MPIExecEngineSetLauncher", "MPIExecControllerLauncher", "MPILauncher", "mpiexec"},
			EngineClasses:     []string{"MPIEngineSetLauncher", "MPIExecEngineSetLauncher", "MPILauncher", "MPIExecLauncher", "LocalProcessLauncher", "EngineLauncher", "BaseLauncher"},
			ControllerClasses: []string{"MPIControllerLauncher", "MPIExecControllerLauncher", "MPILauncher", "MPIExecLauncher", "LocalProcessLauncher", "ControllerLauncher", "BaseLauncher"},
			OptionsClass:      "MPILauncher",
			Options:           func() any { return &MPIOptions{Cmd: []string{"mpiexec"}, Args: []string{}} },
			New: func(s Settings) (Launcher, error) {
				var opts MPIOptions
				if s != nil {
					if err := s.Decode([]string{"MPIEngineSetLauncher", "MPIExecEngineSetLauncher", "MPILauncher", "MPIExecLauncher"}, &opts); err != nil {
						return nil, err
					}
				}
				return NewMPI(opts), nil
			},
		},
	}
}

// Lookup finds a launcher by name or alias, case-insensitively; a full ipyparallel class
// path ("ipyparallel.cluster.launcher.MPIEngineSetLauncher") works too.
func (r *Registry) Lookup(name string) (Entry, error) {
	key := strings.ToLower(name)
	if i := strings.LastIndex(key, "."); i >= 0 {
		key = key[i+1:]
	}
	for _, e := range r.entries {
		if strings.ToLower(e.Name) == key {
			return e, nil
		}
		for _, a := range e.Aliases {
			if strings.ToLower(a) == key {
				return e, nil
			}
		}
	}
	return Entry{}, fmt.Errorf("%w %q (available: %s)", ErrUnknownLauncher, name, strings.Join(r.Names(), ", "))
}

// Names lists the launcher names.
func (r *Registry) Names() []string {
	var names []string
	for _, e := range r.entries {
		names = append(names, e.Name)
	}
	sort.Strings(names)
	return names
}

// New builds the launcher called name.
func (r *Registry) New(name string, s Settings) (Launcher, error) {
	e, err := r.Lookup(name)
	if err != nil {
		return nil, err
	}
	return e.New(s)
}
