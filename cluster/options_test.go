package cluster

import (
	"slices"
	"strings"
	"testing"

	"ipcluster/launchers"
	"ipcluster/runtime/controller"
	"ipcluster/traitconfig"
)

// The controller's command line carries the Cluster settings declared for it, as the
// controller's own options; a batch controller with no address binds every interface.
func TestControllerCommandComesFromTheDeclarations(t *testing.T) {
	reg := launchers.Builtin()
	local, err := reg.New("local", nil)
	if err != nil {
		t.Fatal(err)
	}
	slurm, err := reg.New("slurm", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{opts: Options{ProfileDir: "/p", ControllerSettings: ControllerSettings{ControllerCmd: []string{"ipcontroller"}, ControllerArgs: []string{"--ping=500"}}}}
	c.opts.ClusterSettings = DefaultClusterSettings()
	if got := strings.Join(c.controllerCommand(local), " "); got != "ipcontroller --profile-dir /p --cluster-id  --ping=500" {
		t.Errorf("nothing set: %s", got)
	}
	if got := strings.Join(c.controllerCommand(slurm), " "); got != "ipcontroller --profile-dir /p --cluster-id  --ip=* --ping=500" {
		t.Errorf("batch controller: %s", got)
	}
	c.opts.ControllerIP, c.opts.ControllerLocation = "10.0.0.1", "head"
	if got := strings.Join(c.controllerCommand(slurm), " "); got != "ipcontroller --profile-dir /p --cluster-id  --ip=10.0.0.1 --location=head --ping=500" {
		t.Errorf("ip and location set: %s", got)
	}
}

// Each controller tag names a trait the controller declares, and each flag is named once.
func TestClusterDeclarationsAreConsistent(t *testing.T) {
	traits := map[string]bool{}
	for _, sp := range controller.Specs() {
		traits[sp.Class+"."+sp.Name] = true
	}
	specs, err := traitconfig.Describe(&ClusterSettings{})
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]bool{}
	for _, sp := range specs {
		if tr, ok := sp.Tag.Lookup("controller"); ok && !traits[tr] {
			t.Errorf("%s: the controller has no trait %s", sp.Name, tr)
		}
		for _, f := range strings.Split(sp.Tag.Get("flag"), ",") {
			if f != "" && flags[f] {
				t.Errorf("flag %s declared twice", f)
			}
			flags[f] = true
		}
		for _, cmd := range Commands(sp.Tag) {
			if !slices.Contains([]string{"start", "engines"}, cmd) {
				t.Errorf("%s: unknown subcommand %q in its cmd tag", sp.Name, cmd)
			}
		}
	}
}

// n: not set anywhere, an SSH engines dict may decide (SizeByLauncher); set to 0 (the
// controller alone) it is kept; below 0 it is an error naming it and where it was set.
func TestEngineCountIsValidatedAndKnownToBeGiven(t *testing.T) {
	reg := launchers.Builtin()
	read := func(text string) (Options, error) {
		file, err := traitconfig.ParsePython("ipcluster_config.py", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		var opts Options
		return opts, FromConfig(file, reg, &opts)
	}
	if opts, err := read("c.Cluster.delay = 1\n"); err != nil || opts.N != 4 || !opts.SizeByLauncher {
		t.Errorf("n not set: %v n=%d sized by launcher %v", err, opts.N, opts.SizeByLauncher)
	}
	if opts, err := read("c.Cluster.n = 0\n"); err != nil || opts.N != 0 || opts.SizeByLauncher {
		t.Errorf("n = 0: %v n=%d sized by launcher %v", err, opts.N, opts.SizeByLauncher)
	}
	if _, err := read("c.Cluster.n = -3\n"); err == nil || err.Error() != "ipcluster_config.py:1: c.Cluster.n must be 0 or more, got -3" {
		t.Errorf("n = -3: %v", err)
	}
}
