package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/harness"
	"ipcluster/internal/testutil"
)

type listed struct {
	JobIDs     []string `json:"job_ids"`
	Controller string   `json:"controller"`
	Jobs       []struct{ ID, Name, State string }
}

func listOne(t *testing.T, e *env) listed {
	t.Helper()
	var statuses []listed
	if err := json.Unmarshal([]byte(e.mustIPCluster("list", "-o", "json")), &statuses); err != nil || len(statuses) != 1 {
		t.Fatalf("list -o json: %v %v", err, statuses)
	}
	return statuses[0]
}

// waitGone polls a queue listing until it no longer mentions s.
func waitGone(t *testing.T, what string, list func() string, s string) {
	t.Helper()
	var q string
	if !testutil.WithinEvery(60*time.Second, 200*time.Millisecond, func() bool { q = list(); return !strings.Contains(q, s) }) {
		t.Fatalf("%s still shows %s:\n%s", what, s, q)
	}
}

func sgeJobs(t *testing.T) string {
	out, err := exec.Command("qstat", "-r").CombinedOutput()
	if err != nil {
		t.Fatalf("qstat: %v\n%s", err, out)
	}
	return string(out)
}

// The Slurm flow on real Grid Engine: array jobs (-t 1-n), the state letters of qstat.
func TestSGEStartListStop(t *testing.T) {
	harness.SGE(t)
	e := newEnv(t)
	out := e.mustIPCluster("start", "--engine-kind=go", "-n", "2", "--engines=sge", "--controller=sge", "--daemonize", "--cluster-id=sgetest")
	if !strings.Contains(out, "engines: 2/2 registered") {
		t.Fatalf("start output:\n%s", out)
	}
	if got := engineCount(e, "cluster_id='sgetest'"); got != "[0, 1]" {
		t.Fatalf("Python Client() sees %s", got)
	}
	// list shows qstat's live letters; an element may still read "t" (transferring) for a
	// moment after its engine registered, so wait for "r" with a deadline.
	var st listed
	if !testutil.WithinEvery(30*time.Second, 100*time.Millisecond, func() bool {
		st = listOne(t, e)
		if len(st.JobIDs) != 2 || st.Controller != "running" || len(st.Jobs) != 2 {
			t.Fatalf("list: %+v", st)
		}
		return st.Jobs[1].State == "r×2" && st.Jobs[0].State == "r"
	}) {
		t.Fatalf("job states %+v, want qstat's r (twice for the 2-element array)", st.Jobs)
	}
	q := sgeJobs(t)
	for _, want := range []string{"ipcontroller-sgetest", "ipengine-sgetest-"} {
		if !strings.Contains(q, want) {
			t.Errorf("qstat -r does not show %s:\n%s", want, q)
		}
	}
	if list := e.mustIPCluster("list"); !strings.Contains(list, strings.Join(st.JobIDs, ",")) || !strings.Contains(list, st.JobIDs[0]+":r") {
		t.Errorf("list does not show the job ids %v with their states:\n%s", st.JobIDs, list)
	}
	e.mustIPCluster("stop", "--cluster-id=sgetest")
	waitGone(t, "qstat", func() string { return sgeJobs(t) }, "sgetest")
}

// An engine job past its h_rt gets SIGKILL from Grid Engine's execd, so it cannot record its
// exit; once it has left qstat, qacct tells why ("failed 37", exit_status 137) and list says so.
func TestSGETimeLimitIsReported(t *testing.T) {
	harness.SGE(t)
	t.Parallel()
	e := newEnv(t)
	id := fmt.Sprintf("sgewt%d", time.Now().UnixNano()%1e6)
	// -l h_rt=00:00:20: Grid Engine takes seconds, but the engine must register first (start waits for it)
	e.writeConfig("c.SGEEngineSetLauncher.walltime = '0:0:20'\n")
	e.mustIPCluster("start", "--engine-kind=go", "-n", "1", "--engines=sge", "--daemonize", "--cluster-id="+id)
	st := listOne(t, e)
	if len(st.JobIDs) != 1 {
		t.Fatalf("list: %+v", st)
	}
	// h_rt, then execd's next check, then qmaster's accounting flush (15 s)
	var list string
	if !testutil.WithinEvery(2*time.Minute, 2*time.Second, func() bool {
		list = e.mustIPCluster("list", "-o", "json")
		return strings.Contains(list, "killed by its time limit (walltime)")
	}) {
		t.Fatalf("the time limit was not reported:\n%s", list)
	}
	if want := "Grid Engine job " + st.JobIDs[0] + " exited with status 137"; !strings.Contains(list, want) {
		t.Errorf("list lacks %q:\n%s", want, list)
	}
	e.mustIPCluster("stop", "--cluster-id="+id)
	waitGone(t, "qstat", func() string { return sgeJobs(t) }, id)
}

// A cluster whose file is lost leaves its jobs running; clean --jobs finds them by the
// cluster id in their names, shows them and cancels them.
func TestCleanJobsCancelsJobsOfVanishedClusters(t *testing.T) {
	harness.Slurm(t)
	e := newEnv(t)
	id := fmt.Sprintf("orphan%d", time.Now().UnixNano()%1e6)
	e.mustIPCluster("start", "--engine-kind=go", "-n", "1", "--engines=slurm", "--controller=slurm", "--daemonize", "--cluster-id="+id)
	st := listOne(t, e)
	if err := os.Remove(filepath.Join(e.dir, "profile_default", "security", "cluster-"+id+".json")); err != nil {
		t.Fatal(err)
	}
	if out := e.mustIPCluster("list"); strings.Contains(out, id) {
		t.Fatalf("list still shows the cluster:\n%s", out)
	}
	out := e.mustIPCluster("clean", "--jobs", "--cluster-id="+id)
	for _, want := range append([]string{"ipcontroller-" + id, "ipengine-" + id + "-", "RUNNING", "cancelled 2 job(s)"}, st.JobIDs...) {
		if !strings.Contains(out, want) {
			t.Errorf("clean --jobs output lacks %q:\n%s", want, out)
		}
	}
	waitGone(t, "squeue", func() string { return squeueIDs(t) }, id)
	if out := e.mustIPCluster("clean", "--jobs", "--cluster-id="+id); !strings.Contains(out, "no jobs of vanished clusters found") {
		t.Errorf("second clean --jobs:\n%s", out)
	}
}

// A held Grid Engine array job is shown as pending with the scheduler's own reason, and
// Ctrl-C deletes it.
func TestSGEHeldJobShowsPendingReason(t *testing.T) {
	harness.SGE(t)
	heldJobShowsPendingReason(t, "sge", "c.SGEEngineSetLauncher.extra_directives = ['-h']", "pending (held")
	waitGone(t, "qstat", func() string { return sgeJobs(t) }, "held-sge")
}
