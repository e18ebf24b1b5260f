package cluster

import (
	"strings"
	"testing"

	"ipcluster/launchers"
	"ipcluster/traitconfig"
)

// readConfig reads an ipcluster_config.py text as `ipcluster <command>` does: old names
// moved to today's, then the Cluster settings decoded.
func readConfig(t *testing.T, command, text string) (Options, []traitconfig.Warning) {
	t.Helper()
	file, err := traitconfig.ParsePython("ipcluster_config.py", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	cfg, warnings := file.Rename(OldNames(command))
	reg := launchers.Builtin()
	warnings = append(warnings, cfg.Check(KnownTraits(reg))...)
	var opts Options
	if err := FromConfig(cfg, reg, &opts); err != nil {
		t.Fatal(err)
	}
	return opts, warnings
}

func TestStartTakesIPClusterStartOverIPClusterEnginesWhateverTheOrder(t *testing.T) {
	for _, text := range []string{
		"c.IPClusterStart.n = 5\nc.IPClusterEngines.n = 3\n",
		"c.IPClusterEngines.n = 3\nc.IPClusterStart.n = 5\n",
	} {
		opts, warnings := readConfig(t, "start", text)
		if opts.N != 5 {
			t.Errorf("ipcluster start with %q: n = %d, want 5 (IPClusterStart subclasses IPClusterEngines)", text, opts.N)
		}
		if !hasWarning(warnings, "c.IPClusterEngines.n = 3 is ignored: c.IPClusterStart.n = 5") ||
			!hasWarning(warnings, "c.IPClusterStart.n is an old name; today it is c.Cluster.n") {
			t.Errorf("warnings %v", warnings)
		}
	}
	if opts, _ := readConfig(t, "start", "c.Cluster.n = 2\nc.IPClusterStart.n = 5\n"); opts.N != 2 {
		t.Errorf("c.Cluster.n lost to c.IPClusterStart.n: n = %d", opts.N)
	}
}

func TestEnginesIgnoresIPClusterStart(t *testing.T) {
	opts, warnings := readConfig(t, "engines", "c.IPClusterEngines.n = 3\nc.IPClusterStart.n = 5\nc.IPClusterStart.engine_launcher_class = 'MPI'\n")
	if opts.N != 3 || opts.EngineLauncher != DefaultClusterSettings().EngineLauncher {
		t.Errorf("ipcluster engines: n = %d, engines %q; want 3 and the default (IPClusterStart does not apply)", opts.N, opts.EngineLauncher)
	}
	if !hasWarning(warnings, "ipcluster_config.py:2: c.IPClusterStart.n is ignored: IPClusterStart settings apply to `ipcluster start` only") {
		t.Errorf("warnings %v", warnings)
	}
}

func TestOldLauncherNamesSelectTheLauncher(t *testing.T) {
	reg := launchers.Builtin()
	cases := []struct{ text, engines, controller string }{
		{"c.IPClusterEngines.engine_set_launcher_class = 'MPI'", "mpi", "local"},
		{"c.Cluster.engine_set_launcher_class = 'MPI'", "mpi", "local"},
		{"c.IPClusterEngines.engine_set_launcher = 'MPIEngineSetLauncher'", "mpi", "local"},
		{"c.IPClusterEngines.engine_launcher = 'ipyparallel.apps.launcher.MPIEngineSetLauncher'", "mpi", "local"},
		{"c.IPClusterEngines.engine_launcher_class = 'SSH'", "ssh", "local"},
		{"c.IPClusterStart.controller_launcher = 'PBS'", "local", "pbs"},
		{"c.IPClusterStart.controller_launcher_class = 'MPIControllerLauncher'", "local", "mpi"},
	}
	for _, tc := range cases {
		opts, warnings := readConfig(t, "start", tc.text+"\n")
		got := func(name string) string {
			e, err := reg.Lookup(name)
			if err != nil {
				return err.Error()
			}
			return e.Name
		}
		if got(opts.EngineLauncher) != tc.engines || got(opts.ControllerLauncher) != tc.controller {
			t.Errorf("%s: engines %q, controller %q; want %s, %s", tc.text, opts.EngineLauncher, opts.ControllerLauncher, tc.engines, tc.controller)
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0].Message, "is an old name; today it is c.Cluster.") {
			t.Errorf("%s: want one warning naming today's name, got %v", tc.text, warnings)
		}
	}
}

func hasWarning(ws []traitconfig.Warning, text string) bool {
	for _, w := range ws {
		if strings.Contains(w.String(), text) {
			return true
		}
	}
	return false
}
