package launchers_test

import (
	"testing"
	"time"

	"ipcluster/internal/harness"
	"ipcluster/internal/sshtest"
	"ipcluster/launchers"
	"ipcluster/launchers/launchertest"
)

func row(t *testing.T, name string) launchers.Scheduler {
	for _, r := range launchers.Schedulers() {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no scheduler row %q", name)
	return launchers.Scheduler{}
}

func TestSlurmConformance(t *testing.T) {
	harness.Slurm(t)
	r := row(t, "slurm")
	launchertest.Run(t, launchertest.Target{
		New:     func(*testing.T) launchers.Launcher { return launchers.NewBatch(r, launchers.BatchOptions{}) },
		Timeout: 60 * time.Second,
	})
}

// TestSlurmConformanceThroughLoginHost runs the suite with every command run, and every
// script, exit file and output read, on a login host over SSH (the local sshd).
func TestSlurmConformanceThroughLoginHost(t *testing.T) {
	harness.Slurm(t)
	s := sshtest.Start(t)
	r := row(t, "slurm")
	login := launchers.LoginOptions{SSHHost: "root@ipp-sshd", SSHConfig: s.ConfigFile}
	launchertest.Run(t, launchertest.Target{
		New: func(*testing.T) launchers.Launcher {
			return launchers.NewBatch(r, launchers.BatchOptions{LoginOptions: login})
		},
		Timeout: 60 * time.Second,
	})
}

func TestSGEConformance(t *testing.T) {
	harness.SGE(t)
	r := row(t, "sge")
	launchertest.Run(t, launchertest.Target{
		New:     func(*testing.T) launchers.Launcher { return launchers.NewBatch(r, launchers.BatchOptions{}) },
		Timeout: 60 * time.Second,
	})
}
