package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipcluster/internal/harness"
	"ipcluster/internal/testutil"
)

// squeueIDs lists the job ids Slurm still has queued or running.
func squeueIDs(t *testing.T) string {
	out, err := exec.Command("squeue", "--noheader", "--format=%i %j %T").CombinedOutput()
	if err != nil {
		t.Fatalf("squeue: %v\n%s", err, out)
	}
	return string(out)
}

func TestSlurmStartListStop(t *testing.T) {
	harness.Slurm(t)
	e := newEnv(t)
	out := e.mustIPCluster("start", "--engine-kind=go", "-n", "4", "--engines=slurm", "--controller=slurm", "--daemonize", "--cluster-id=slurmtest")
	if !strings.Contains(out, "engines: 4/4 registered") {
		t.Fatalf("start output:\n%s", out)
	}
	if got := engineCount(e, "cluster_id='slurmtest'"); got != "[0, 1, 2, 3]" {
		t.Fatalf("Python Client() sees %s", got)
	}
	var statuses []struct {
		JobIDs     []string          `json:"job_ids"`
		Controller string            `json:"controller"`
		Sets       map[string]string `json:"engine_sets"`
	}
	if err := json.Unmarshal([]byte(e.mustIPCluster("list", "-o", "json")), &statuses); err != nil || len(statuses) != 1 {
		t.Fatalf("list -o json: %v %v", err, statuses)
	}
	st := statuses[0]
	if len(st.JobIDs) != 2 || st.Controller != "running" {
		t.Fatalf("list: %+v", st)
	}
	q := squeueIDs(t)
	for _, id := range st.JobIDs {
		if !strings.Contains(q, id+" ") || !strings.Contains(q, "RUNNING") || !strings.Contains(q, "slurmtest") {
			t.Errorf("squeue does not show job %s running with the cluster id in its name:\n%s", id, q)
		}
	}
	if list := e.mustIPCluster("list"); !strings.Contains(list, strings.Join(st.JobIDs, ",")) || !strings.Contains(list, st.JobIDs[1]+":RUNNING") {
		t.Errorf("list does not show the job ids %v with Slurm's state RUNNING:\n%s", st.JobIDs, list)
	}
	e.mustIPCluster("stop", "--cluster-id=slurmtest")
	if q := squeueIDs(t); strings.Contains(q, "slurmtest") {
		t.Errorf("jobs left in squeue after stop:\n%s", q)
	}
}

func TestSlurmHeldJobShowsPendingReason(t *testing.T) {
	harness.Slurm(t)
	heldJobShowsPendingReason(t, "slurm", "c.SlurmEngineSetLauncher.extra_directives = ['--hold']", "pending (JobHeldUser")
	waitGone(t, "squeue", func() string { return squeueIDs(t) }, "held-slurm")
}

// heldJobShowsPendingReason starts engines whose job the scheduler holds: `start` must show
// the job pending with the scheduler's reason, and Ctrl-C must cancel what was submitted
// (the caller checks the queue).
func heldJobShowsPendingReason(t *testing.T, engines, config, want string) {
	e := newEnv(t)
	e.writeConfig(config + "\n")
	cmd := exec.Command(filepath.Join(binDir, "ipcluster"), "start", "--engine-kind=go", "-n", "2", "--engines="+engines, "--cluster-id=held-"+engines)
	cmd.Env = e.environ()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	drain := waitForLine(t, cmd, stderr, want, 2*time.Minute)
	cmd.Process.Signal(syscall.SIGINT)
	go drain()
	cmd.Wait()
}

func TestSlurmTimeLimitIsReported(t *testing.T) {
	harness.Slurm(t)
	t.Parallel()
	e := newEnv(t)
	e.writeConfig("c.SlurmEngineSetLauncher.walltime = '1'\n") // one minute, Slurm's smallest
	e.mustIPCluster("start", "--engine-kind=go", "-n", "1", "--engines=slurm", "--daemonize", "--cluster-id=walltime")
	var list string
	if !testutil.WithinEvery(3*time.Minute, 2*time.Second, func() bool {
		list = e.mustIPCluster("list", "-o", "json")
		return strings.Contains(list, "time limit")
	}) {
		t.Fatalf("the time limit was not reported:\n%s", list)
	}
	e.mustIPCluster("stop", "--cluster-id=walltime")
}
