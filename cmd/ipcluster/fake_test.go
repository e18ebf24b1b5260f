package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipcluster/internal/harness"
)

// The same start/list/stop flow as on real Slurm, with real Go engines, against the fakes of
// the schedulers this machine does not have.
func TestFakeSchedulerStartListStop(t *testing.T) {
	words := map[string]string{"pbs": ":R", "pbspro": ":B", "lsf": ":RUN×2", "htcondor": ":Running×2", "winhpc": ":Running"}
	for _, name := range []string{"pbs", "pbspro", "lsf", "htcondor", "winhpc"} {
		t.Run(name, func(t *testing.T) {
			state := harness.FakeScheduler(t, name)
			e := newEnv(t)
			out := e.mustIPCluster("start", "--engine-kind=go", "-n", "2", "--engines="+name, "--controller="+name, "--daemonize", "--cluster-id=fake"+name)
			if !strings.Contains(out, "engines: 2/2 registered") {
				t.Fatalf("start output:\n%s", out)
			}
			var statuses []struct {
				JobIDs     []string `json:"job_ids"`
				Controller string   `json:"controller"`
				Jobs       []struct{ ID, State string }
			}
			if err := json.Unmarshal([]byte(e.mustIPCluster("list", "-o", "json")), &statuses); err != nil || len(statuses) != 1 {
				t.Fatalf("list -o json: %v %v", err, statuses)
			}
			st := statuses[0]
			if len(st.JobIDs) != 2 || st.Controller != "running" || len(st.Jobs) != 2 {
				t.Fatalf("list: %+v", st)
			}
			list := e.mustIPCluster("list")
			if !strings.Contains(list, strings.Join(st.JobIDs, ",")) || !strings.Contains(list, words[name]) {
				t.Errorf("list does not show the job ids %v with the state word %q:\n%s", st.JobIDs, words[name], list)
			}
			if live := harness.FakeJobsLive(t, state); len(live) != 2 || !strings.Contains(strings.Join(live, " "), "fake"+name) {
				t.Errorf("the fake runs %v, want the controller and engine jobs named with the cluster id", live)
			}
			e.mustIPCluster("stop", "--cluster-id=fake"+name)
			e.assertNoProcesses()
			harness.WaitNoFakeJobs(t, state)
		})
	}
}

func TestDryRunSubmitsNothing(t *testing.T) {
	state := harness.FakeScheduler(t, "pbs")
	e := newEnv(t)
	out := e.mustIPCluster("start", "--engine-kind=go", "-n", "3", "--engines=pbs", "--controller=pbs", "--dry-run", "--cluster-id=dry")
	for _, want := range []string{"#PBS -N ipcontroller-dry", "#PBS -t 1-3", "#PBS -N ipengine-dry-", "# engines submit command:\nqsub " + e.dir,
		"--cluster-id dry", "nothing was written, submitted or started"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if jobs, _ := filepath.Glob(filepath.Join(state, "jobs", "*")); len(jobs) != 0 {
		t.Errorf("dry run submitted %v", jobs)
	}
	if files, _ := filepath.Glob(filepath.Join(e.dir, "profile_default", "*", "*")); len(files) != 0 {
		t.Errorf("dry run wrote %v", files)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "profile_default", "security", "cluster-dry.json")); err == nil {
		t.Error("dry run wrote a cluster file")
	}
}
