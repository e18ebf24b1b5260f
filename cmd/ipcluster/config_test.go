package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestConfigErrorsAndWarningsNameTheSource(t *testing.T) {
	e := newEnv(t)
	e.writeConfig("import os\nc.Cluster.n = os.cpu_count() + engines_per_core\n")
	out, code := e.ipcluster("start", "--engine-kind=go", "-n", "1", "--daemonize")
	if code == 0 || !regexp.MustCompile(`ipcluster_config\.py:3: NameError: name 'engines_per_core' is not defined`).MatchString(out) {
		t.Fatalf("a config with an undefined name gave exit %d:\n%s", code, out)
	}
	e.writeConfig("c.Cluster.nn = 3\nc.Cluster.n = 2\n")
	out = e.mustIPCluster("start", "--engine-kind=go", "--daemonize")
	if !strings.Contains(out, "ipcluster_config.py:2") || !strings.Contains(out, "did you mean n") {
		t.Errorf("no warning naming the closest option:\n%s", out)
	}
	if !strings.Contains(out, "engines: 2/2 registered") {
		t.Errorf("c.Cluster.n = 2 not applied:\n%s", out)
	}
	e.mustIPCluster("stop")
}

func TestFlagsOverrideConfigAndTraitArguments(t *testing.T) {
	e := newEnv(t)
	e.writeConfig("c.IPClusterEngines.n = 5\n")
	out := e.mustIPCluster("start", "--engine-kind=go", "-n", "1", "--daemonize")
	if !strings.Contains(out, "engines: 1/1 registered") {
		t.Errorf("-n 1 did not override c.IPClusterEngines.n = 5:\n%s", out)
	}
	e.mustIPCluster("stop")
	out = e.mustIPCluster("start", "--engine-kind=go", "--Cluster.n=2", "--daemonize")
	if !strings.Contains(out, "engines: 2/2 registered") {
		t.Errorf("--Cluster.n=2 did not override the file:\n%s", out)
	}
	out = e.mustIPCluster("engines", "--engine-kind=go", "-n", "2")
	if got := engineCount(e, ""); got != "[0, 1, 2, 3]" {
		t.Errorf("after `ipcluster engines -n 2`: %s\n%s", got, out)
	}
	e.mustIPCluster("stop")
}

func TestProfileCreatedByIPythonLoads(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Join(e.dir, "profile_default")
	cmd := exec.Command("/usr/bin/python3", "-m", "IPython", "profile", "create", "--parallel", "--profile-dir="+dir)
	cmd.Env = e.environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ipython profile create: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "ipcluster_config.py")); err != nil {
		t.Fatal(err)
	}
	out := e.mustIPCluster("start", "--engine-kind=go", "-n", "2", "--daemonize")
	if strings.Contains(out, "warning") {
		t.Errorf("warnings for a stock ipyparallel profile:\n%s", out)
	}
	e.mustIPCluster("stop")
}

func TestProfileCreateListsEveryOption(t *testing.T) {
	e := newEnv(t)
	e.mustIPCluster("profile", "create", "demo")
	dir := strings.TrimSpace(e.mustIPCluster("profile", "locate", "demo"))
	data, err := os.ReadFile(filepath.Join(dir, "ipcluster_config.py"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{"# c.Cluster.n = 4", "# c.EngineLauncher.engine_cmd = []", "# c.MPILauncher.mpi_cmd = ['mpiexec']", "# c.ControllerLauncher.controller_args"} {
		if !strings.Contains(text, want) {
			t.Errorf("generated config lacks %q", want)
		}
	}
	// the controller's and engine's files come from their option declarations
	for file, want := range map[string]string{"ipcontroller_config.py": "# c.HeartMonitor.period = 3000",
		"ipengine_config.py": "# c.IPEngine.startup_command = ''"} {
		if data, err := os.ReadFile(filepath.Join(dir, file)); err != nil || !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %q (%v)", file, want, err)
		}
	}
	// every listed default, uncommented, must load as it is
	uncommented := regexp.MustCompile(`(?m)^# (c\.\w+\.\w+ = )`).ReplaceAllString(text, "$1")
	if err := os.WriteFile(filepath.Join(dir, "ipcluster_config.py"), []byte(uncommented), 0o644); err != nil {
		t.Fatal(err)
	}
	out := e.mustIPCluster("start", "--engine-kind=go", "--profile=demo", "-n", "1", "--daemonize")
	if strings.Contains(out, "warning") {
		t.Errorf("uncommented defaults give warnings:\n%s", out)
	}
	e.mustIPCluster("stop", "--profile=demo")
	if list := e.mustIPCluster("profile", "list"); !strings.Contains(list, "demo") {
		t.Errorf("profile list:\n%s", list)
	}
}

func TestProfileCreateTakesTheManualsParallelForm(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{
		{"profile", "create", "--parallel", "manual1"},           // ipcluster's form of the manual's command
		{"profile", "create", "--parallel", "--profile=manual2"}, // `ipython profile create --parallel --profile=NAME`
		{"profile", "create", "manual3", "--parallel"},
	} {
		e.mustIPCluster(args...)
	}
	for _, name := range []string{"manual1", "manual2", "manual3"} {
		if _, err := os.Stat(filepath.Join(e.dir, "profile_"+name, "ipcluster_config.py")); err != nil {
			t.Errorf("profile %s: %v", name, err)
		}
	}
	if out, code := e.ipcluster("profile", "create", "--parallel"); code == 0 || !strings.Contains(out, "usage: ipcluster profile create") {
		t.Errorf("no name: exit %d\n%s", code, out)
	}
}

func TestCleanRefusesRunningClustersUnlessForced(t *testing.T) {
	e := newEnv(t)
	e.mustIPCluster("start", "--engine-kind=go", "-n", "1", "--daemonize")
	if _, code := e.ipcluster("clean"); code == 0 {
		t.Fatal("clean removed the files of a running cluster")
	}
	e.mustIPCluster("clean", "--force")
	e.assertNoProcesses()
	if files, _ := filepath.Glob(filepath.Join(e.dir, "profile_default", "security", "*.json")); len(files) != 0 {
		t.Errorf("files left after clean: %v", files)
	}
}
