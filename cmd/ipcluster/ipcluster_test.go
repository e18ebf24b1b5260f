package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStartDaemonizeListStop(t *testing.T) {
	e := newEnv(t)
	out := e.mustIPCluster("start", "--engine-kind=go", "-n", "4", "--daemonize")
	if !strings.Contains(out, "engines: 4/4 registered") || !strings.Contains(out, "Leaving cluster running") {
		t.Fatalf("start output:\n%s", out)
	}
	if got := engineCount(e, ""); got != "[0, 1, 2, 3]" {
		t.Fatalf("Python Client() sees %s", got)
	}
	list := e.mustIPCluster("list")
	if !strings.Contains(list, "default") || !strings.Contains(list, "running") || !strings.Contains(list, "4/4") {
		t.Fatalf("list:\n%s", list)
	}
	var statuses []map[string]any
	if err := json.Unmarshal([]byte(e.mustIPCluster("list", "-o", "json")), &statuses); err != nil || len(statuses) != 1 {
		t.Fatalf("list -o json: %v %v", err, statuses)
	}
	if statuses[0]["engines_registered"] != 4.0 || len(statuses[0]["pids"].([]any)) != 5 {
		t.Errorf("json status %v", statuses[0])
	}
	if out, code := e.ipcluster("start", "-n", "1", "--daemonize"); code != exitAlreadyStarted {
		t.Errorf("second start exited %d, want %d:\n%s", code, exitAlreadyStarted, out)
	}
	px := e.mustIPCluster("px", "--", "echo id=$IPP_ENGINE_ID")
	for _, want := range []string{"[0] id=0", "[3] id=3"} {
		if !strings.Contains(px, want) {
			t.Errorf("px output lacks %q:\n%s", want, px)
		}
	}
	if _, code := e.ipcluster("px", "--", "test $IPP_ENGINE_ID != 2"); code == 0 {
		t.Error("px exited 0 although engine 2 failed")
	}
	e.mustIPCluster("stop")
	e.assertNoProcesses()
	if _, code := e.ipcluster("stop"); code != exitAlreadyStopped {
		t.Errorf("stop with nothing running exited %d, want %d", code, exitAlreadyStopped)
	}
}

func TestClusterID(t *testing.T) {
	e := newEnv(t)
	e.mustIPCluster("start", "--engine-kind=go", "-n", "2", "--daemonize", "--cluster-id=x")
	if got := engineCount(e, "cluster_id='x'"); got != "[0, 1]" {
		t.Fatalf("Client(cluster_id='x') sees %s", got)
	}
	if list := e.mustIPCluster("list"); !strings.Contains(list, " x ") {
		t.Errorf("list does not show cluster x:\n%s", list)
	}
	e.mustIPCluster("stop", "--cluster-id=x")
	e.assertNoProcesses()
}

func TestPythonEnginesThroughEngineCmd(t *testing.T) {
	e := newEnv(t)
	e.writeConfig("c.EngineLauncher.engine_cmd = ['/usr/bin/python3', '-m', 'ipyparallel.engine']\n")
	e.mustIPCluster("start", "-n", "2", "--daemonize")
	pids := e.python(`
import os, ipyparallel as ipp
c = ipp.Client()
c.wait_for_engines(2, timeout=30)
pids = c[:].apply_sync(os.getpid)
assert len(set(pids)) == 2 and os.getpid() not in pids, pids
print("ok", len(pids))`)
	if pids != "ok 2" {
		t.Fatalf("python engines: %s", pids)
	}
	e.mustIPCluster("stop")
	e.assertNoProcesses()
}

func TestMPIEngines(t *testing.T) {
	if _, err := exec.LookPath("mpiexec"); err != nil {
		t.Fatal("mpiexec missing: make deps installs openmpi-bin")
	}
	e := newEnv(t)
	// as root, Open MPI needs --allow-run-as-root; more ranks than cores need --oversubscribe
	e.writeConfig("c.MPILauncher.mpi_args = ['--allow-run-as-root', '--oversubscribe']\n")
	e.mustIPCluster("start", "--engine-kind=go", "-n", "3", "--engines=mpi", "--daemonize")
	if got := engineCount(e, ""); got != "[0, 1, 2]" {
		t.Fatalf("MPI engines %s", got)
	}
	e.mustIPCluster("stop")
	e.assertNoProcesses()
}

func TestInterruptDuringStartStopsEverything(t *testing.T) {
	e := newEnv(t)
	// engines that take their time: ipcluster is still waiting for them when interrupted
	e.writeConfig("c.EngineLauncher.engine_cmd = ['/bin/sh', '-c', 'sleep 60; exec \"$0\" \"$@\"', '" + filepath.Join(binDir, "ipengine") + "']\n")
	cmd := exec.Command(filepath.Join(binDir, "ipcluster"), "start", "-n", "3")
	cmd.Env = e.environ()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	drain := waitForLine(t, cmd, stderr, "engines: 0/3 registered", time.Minute)
	if n := len(e.processes()); n < 4 {
		t.Fatalf("only %d processes running before the interrupt", n)
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	go drain()
	err := cmd.Wait()
	if err == nil {
		t.Error("interrupted start exited 0")
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("stopping took %v", took)
	}
	e.assertNoProcesses()
}

func TestEngineThatExitsAtOnceFailsFast(t *testing.T) {
	e := newEnv(t)
	e.writeConfig("c.EngineLauncher.engine_cmd = ['/bin/sh', '-c', 'echo engine cannot start: no such thing >&2; exit 2']\n")
	start := time.Now()
	out, code := e.ipcluster("start", "-n", "2", "--daemonize")
	if code == 0 {
		t.Fatalf("start succeeded:\n%s", out)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("failing took %v", took)
	}
	for _, want := range []string{"exited with status 2", "engine cannot start: no such thing", "hint:", "ipcontroller-engine.json"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	e.assertNoProcesses()
}
