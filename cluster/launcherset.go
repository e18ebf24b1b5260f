package cluster

import (
	"errors"
	"sync"

	"ipcluster/launchers"
)

// launcherSet builds each launcher once, by name, and keeps it: one command (or one running
// cluster) then holds one launcher of each kind, and through it one connection per host,
// however often it polls. close releases them all.
type launcherSet struct {
	mu       sync.Mutex
	reg      *launchers.Registry
	settings launchers.Settings // nil: defaults (enough to watch and stop what a handle records)
	built    map[string]launchers.Launcher
}

func newLauncherSet(reg *launchers.Registry, settings launchers.Settings) *launcherSet {
	return &launcherSet{reg: reg, settings: settings, built: map[string]launchers.Launcher{}}
}

// get returns the launcher called name (or one of its aliases), building it on first use.
func (s *launcherSet) get(name string) (launchers.Launcher, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.reg.Lookup(name)
	if err != nil {
		return nil, err
	}
	if l, ok := s.built[e.Name]; ok {
		return l, nil
	}
	l, err := e.New(s.settings)
	if err != nil {
		return nil, err
	}
	s.built[e.Name] = l
	return l, nil
}

// close releases what the launchers hold; they may be built again by a later get.
func (s *launcherSet) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for name, l := range s.built {
		errs = append(errs, launchers.Close(l))
		delete(s.built, name)
	}
	return errors.Join(errs...)
}
