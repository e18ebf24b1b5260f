package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

// requirePythonEngine fails (rather than skips) where the reference Python is missing:
// `make deps` installs it, and the auto tests mean nothing without it.
func requirePythonEngine(t *testing.T) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import ipyparallel").Run(); err != nil {
		t.Fatalf("/usr/bin/python3 cannot import ipyparallel (make deps installs python3-ipyparallel): %v", err)
	}
}

// With ipyparallel installed, a plain `ipcluster start` gives Python engines, says so, and
// the manual's first example works.
func TestAutoChoosesPythonEnginesWhereIpyparallelIsInstalled(t *testing.T) {
	requirePythonEngine(t)
	e := newEnv(t)
	out := e.mustIPCluster("start", "-n", "1", "--daemonize")
	if !regexp.MustCompile(`engines: Python ipyparallel engine \(auto: \S+ imports ipyparallel [0-9.]+\)`).MatchString(out) {
		t.Fatalf("start does not say it chose Python engines and why:\n%s", out)
	}
	got := e.python(`
import ipyparallel as ipp
c = ipp.Client()
c.wait_for_engines(1, timeout=30)
print(c[:].apply_sync(lambda: "Hello, World"))`)
	if got != "['Hello, World']" {
		t.Fatalf("apply_sync on auto engines: %s", got)
	}
	if list := e.mustIPCluster("list", "-o", "json"); !strings.Contains(list, `"python"`) {
		t.Errorf("list -o json does not record the engine kind:\n%s", list)
	}
	e.mustIPCluster("stop")
	e.assertNoProcesses()
}

// Without such a Python (IPCLUSTER_PYTHON=none stands for a machine without one), auto
// falls back to the Go engine and says why.
func TestAutoFallsBackToGoEngines(t *testing.T) {
	e := newEnv(t)
	e.extra = []string{"IPCLUSTER_PYTHON=none"}
	out := e.mustIPCluster("start", "-n", "1", "--daemonize")
	if !strings.Contains(out, "engines: Go engine (auto: no Python with ipyparallel: IPCLUSTER_PYTHON=none)") {
		t.Fatalf("start does not say it chose the Go engine and why:\n%s", out)
	}
	if px := e.mustIPCluster("px", "--", "echo shell says $IPP_ENGINE_ID"); !strings.Contains(px, "[0] shell says 0") {
		t.Errorf("px on the Go engine:\n%s", px)
	}
	e.mustIPCluster("stop")
}

// Explicit kinds, bad kinds and engine_cmd, shown by --dry-run (which starts nothing).
func TestExplicitEngineKindsAndEngineCmdOverride(t *testing.T) {
	requirePythonEngine(t)
	e := newEnv(t)
	ipengine := filepath.Join(binDir, "ipengine")
	dry := func(args ...string) string {
		t.Helper()
		return e.mustIPCluster(append([]string{"start", "-n", "1", "--dry-run"}, args...)...)
	}
	if out := dry("--engine-kind=go"); !strings.Contains(out, "engines: Go engine (engine_kind go)") || !strings.Contains(out, ipengine+" --profile-dir") {
		t.Errorf("--engine-kind=go:\n%s", out)
	}
	if out := dry("--engine-kind=python"); !regexp.MustCompile(`engines: Python ipyparallel engine \(engine_kind python: \S+ imports ipyparallel`).MatchString(out) ||
		!strings.Contains(out, " -m ipyparallel.engine --profile-dir") {
		t.Errorf("--engine-kind=python:\n%s", out)
	}
	e.writeConfig("c.Cluster.engine_kind = 'go'\n")
	if out := dry(); !strings.Contains(out, "engines: Go engine (engine_kind go)") {
		t.Errorf("c.Cluster.engine_kind = 'go':\n%s", out)
	}
	e.writeConfig("c.EngineLauncher.engine_cmd = ['/opt/my-engine']\n")
	if out := dry("--engine-kind=python"); !strings.Contains(out, "engines: engine_cmd /opt/my-engine (configured engine_cmd, which overrides engine_kind python)") ||
		!strings.Contains(out, "/opt/my-engine --profile-dir") {
		t.Errorf("engine_cmd does not override the engine kind:\n%s", out)
	}
	e.writeConfig("")
	if out, code := e.ipcluster("start", "--engine-kind=pyhton", "--daemonize"); code == 0 || !strings.Contains(out, "choose auto, go or python") {
		t.Errorf("a misspelt kind gave exit %d:\n%s", code, out)
	}
	e.extra = []string{"IPCLUSTER_PYTHON=none"}
	if out, code := e.ipcluster("start", "--engine-kind=python", "--daemonize"); code == 0 || !strings.Contains(out, "no suitable Python found that imports ipyparallel") {
		t.Errorf("--engine-kind=python without Python gave exit %d:\n%s", code, out)
	}
	if left, _ := filepath.Glob(filepath.Join(e.dir, "profile_default", "security", "cluster-*.json")); len(left) != 0 {
		t.Errorf("a refused start left %v", left)
	}
}

// px on a cluster with one engine of each kind: the same output and the same errors.
func TestPxSameOnGoAndPythonEngines(t *testing.T) {
	requirePythonEngine(t)
	e := newEnv(t)
	e.mustIPCluster("start", "-n", "1", "--engine-kind=go", "--daemonize")
	e.mustIPCluster("engines", "-n", "1", "--engine-kind=python")
	out, code := e.ipcluster("px", "--", "echo out $IPP_ENGINE_ID; echo err >&2; echo é")
	if code != 0 {
		t.Fatalf("px exited %d:\n%s", code, out)
	}
	for _, want := range []string{"[0] out 0", "[1] out 1", "[0] err", "[1] err", "[0] é", "[1] é"} {
		if !strings.Contains(out, want) {
			t.Errorf("px output lacks %q:\n%s", want, out)
		}
	}
	for _, c := range []struct{ cmd, want string }{
		{"exit 3", "CommandError: command 'exit 3' exited with status 3"},
		{"kill -TERM $$", "CommandError: command 'kill -TERM $$' was killed by signal SIGTERM"},
	} {
		out, code := e.ipcluster("px", "--", c.cmd)
		if code != 1 || !strings.Contains(out, "failed on 2 of 2 engines") {
			t.Errorf("px %q exited %d:\n%s", c.cmd, code, out)
		}
		for _, id := range []string{"[0] engine 0: ", "[1] engine 1: "} {
			if !strings.Contains(out, id+c.want) {
				t.Errorf("px %q lacks %q:\n%s", c.cmd, id+c.want, out)
			}
		}
	}
	// what a command leaves running in the background goes when it ends, on both kinds
	start := time.Now()
	if out, code := e.ipcluster("px", "--", "sleep 61.0123 & echo left"); code != 0 || !strings.Contains(out, "[0] left") || !strings.Contains(out, "[1] left") {
		t.Errorf("px with a background command exited %d:\n%s", code, out)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("px waited %v for a background command", took)
	}
	if !testutil.Within(5*time.Second, func() bool { return len(processesMentioning("61.0123")) == 0 }) {
		t.Errorf("px left the background command running:\n%s", strings.Join(processesMentioning("61.0123"), "\n"))
	}
	// one engine failing: the same exit status as when both do
	if _, code := e.ipcluster("px", "--", "test $IPP_ENGINE_ID = 0"); code != 1 {
		t.Errorf("px failing on the Python engine only exited %d", code)
	}
	e.mustIPCluster("stop")
	e.assertNoProcesses()
}

// The manual's restricted-network recipe: ipcontroller by hand, then `ipcluster engines`;
// list shows those engines, stop stops them and leaves the controller running.
func TestEnginesBesideHandStartedController(t *testing.T) {
	e := newEnv(t)
	out, code := e.ipcluster("engines", "-n", "2", "--engine-kind=go")
	if code != exitAlreadyStopped || !strings.Contains(out, "start a controller first") || !strings.Contains(out, "ipcluster start") {
		t.Fatalf("engines with no controller exited %d:\n%s", code, out)
	}
	ctl := exec.Command(filepath.Join(binDir, "ipcontroller"))
	ctl.Env = e.environ()
	if err := ctl.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Process.Kill(); ctl.Wait() })
	engineFile := filepath.Join(e.dir, "profile_default", "security", "ipcontroller-engine.json")
	testutil.Eventually(t, time.Minute, "the controller's engine connection file", func() bool { _, err := os.Stat(engineFile); return err == nil })
	if out := e.mustIPCluster("engines", "-n", "2", "--engine-kind=go"); !strings.Contains(out, "2 engines registered") {
		t.Fatalf("engines:\n%s", out)
	}
	list := e.mustIPCluster("list")
	if !regexp.MustCompile(`default\s+''\s+external, running\s+2/2\s+local`).MatchString(list) {
		t.Errorf("list:\n%s", list)
	}
	if out := e.mustIPCluster("stop"); !strings.Contains(out, "keeps running") {
		t.Errorf("stop:\n%s", out)
	}
	if ctl.Process.Signal(syscall.Signal(0)) != nil {
		t.Fatal("ipcluster stop stopped the controller it did not start")
	}
	if _, err := os.Stat(engineFile); err != nil {
		t.Errorf("ipcluster stop removed the controller's connection file: %v", err)
	}
	e.assertNoProcesses() // the engines (the hand-started controller's command line does not name the directory)
	if got := e.python(`
import time, ipyparallel as ipp
c = ipp.Client()
deadline = time.monotonic() + 30
while c.ids and time.monotonic() < deadline:
    time.sleep(0.1)
fresh = ipp.Client(timeout=10)  # connecting needs the controller's answer
print("still there:", c.ids, "a new client connects and sees:", fresh.ids)`); got != "still there: [] a new client connects and sees: []" {
		t.Errorf("after ipcluster stop: %s", got)
	}
}

// `ipcluster engines` without a kind adds engines of the kind the cluster already has.
func TestEnginesJoinOfTheClusterKind(t *testing.T) {
	requirePythonEngine(t) // so that auto alone would have chosen Python engines
	e := newEnv(t)
	e.mustIPCluster("start", "-n", "1", "--engine-kind=go", "--daemonize")
	out := e.mustIPCluster("engines", "-n", "1")
	if !strings.Contains(out, "engines: Go engine (the kind of the cluster's engines)") {
		t.Fatalf("engines did not follow the cluster's kind:\n%s", out)
	}
	e.mustIPCluster("stop")
}
