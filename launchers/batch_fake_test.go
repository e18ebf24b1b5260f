package launchers_test

import (
	"testing"
	"time"

	"ipcluster/internal/harness"
	"ipcluster/launchers"
	"ipcluster/launchers/launchertest"
)

// The schedulers with no Debian package run against fakes (testdata/fakebin/<name>) that
// print the real tools' output and run the jobs on this host.
var fakeSchedulers = []string{"pbs", "pbspro", "lsf", "htcondor", "winhpc"}

func TestFakeSchedulerConformance(t *testing.T) {
	for _, name := range fakeSchedulers {
		t.Run(name, func(t *testing.T) {
			harness.FakeScheduler(t, name)
			r := row(t, name)
			launchertest.Run(t, launchertest.Target{
				New:          func(*testing.T) launchers.Launcher { return launchers.NewBatch(r, launchers.BatchOptions{}) },
				Timeout:      30 * time.Second,
				HostsUnknown: name == "pbspro", // an array job's qstat -f has no exec_host
			})
		})
	}
}
