package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipcluster/internal/harness"
	"ipcluster/internal/sshtest"
)

// sshLogins counts the test sshd's accepted logins as root.
func sshLogins(t *testing.T, s sshtest.Server) int {
	data, err := os.ReadFile(filepath.Join(s.Dir, "sshd.log"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "Accepted publickey for root")
}

// TestSlurmThroughLoginHost submits the engines with sbatch on a login host over SSH (the
// local sshd in front of the local Slurm): they register, list shows their state and stop
// cancels them, from processes that read the login host from the cluster file.
func TestSlurmThroughLoginHost(t *testing.T) {
	harness.Slurm(t)
	s := sshtest.Start(t)
	e := newEnv(t)
	e.writeConfig(fmt.Sprintf("c.BatchSystemLauncher.ssh_config = %q\n", s.ConfigFile))
	before := sshLogins(t, s)
	out := e.mustIPCluster("start", "--engine-kind=go", "-n", "2", "--engines=slurm", "--ssh-host=root@ipp-sshd", "--daemonize", "--cluster-id=login")
	if !strings.Contains(out, "engines: 2/2 registered") {
		t.Fatalf("start output:\n%s", out)
	}
	if sshLogins(t, s) == before {
		t.Fatal("no SSH login to the login host: the jobs were not submitted through it")
	}
	file := filepath.Join(e.dir, "profile_default", "security", "cluster-login.json")
	if data, err := os.ReadFile(file); err != nil || !strings.Contains(string(data), `"root@ipp-sshd"`) {
		t.Fatalf("the cluster file does not record the login host (%v):\n%s", err, data)
	}
	if got := engineCount(e, "cluster_id='login'"); got != "[0, 1]" {
		t.Fatalf("Python Client() sees %s", got)
	}
	st := listOne(t, e)
	if len(st.JobIDs) != 1 {
		t.Fatalf("list: %+v", st)
	}
	if q := squeueIDs(t); !strings.Contains(q, st.JobIDs[0]+" ") || !strings.Contains(q, "login") {
		t.Fatalf("squeue does not show job %s:\n%s", st.JobIDs[0], q)
	}
	if list := e.mustIPCluster("list"); !strings.Contains(list, st.JobIDs[0]+":RUNNING") {
		t.Errorf("list does not show job %s RUNNING:\n%s", st.JobIDs[0], list)
	}
	before = sshLogins(t, s)
	e.mustIPCluster("stop", "--cluster-id=login")
	if sshLogins(t, s) == before {
		t.Error("stop did not go through the login host")
	}
	if q := squeueIDs(t); strings.Contains(q, "login") {
		t.Errorf("jobs left in squeue after stop:\n%s", q)
	}
}
