package harness

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

// FakeBin is testdata/fakebin/<scheduler>: fake qsub, bsub, condor_submit, job ... that print
// the real tools' output formats and run the jobs on this host.
func FakeBin(scheduler string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "fakebin", scheduler)
}

// FakeScheduler puts the fake commands of a scheduler (pbs, pbspro, lsf, htcondor, winhpc)
// first on PATH and gives them a fresh state directory (FAKESCHED_DIR) for the test; it
// returns that directory. When the test ends, jobs still running are cancelled through the
// fake's own state. The test must not be parallel (it changes the process environment).
func FakeScheduler(t *testing.T, scheduler string) string {
	t.Helper()
	dir := FakeBin(scheduler)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("no fake scheduler %q: %v", scheduler, err)
	}
	if _, err := exec.LookPath("/usr/bin/python3"); err != nil {
		t.Fatalf("the fake schedulers need /usr/bin/python3 (make deps installs it): %v", err)
	}
	state := t.TempDir()
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKESCHED_DIR", state)
	t.Cleanup(func() { killFakeJobs(t, state) })
	return state
}

// killFakeJobs kills what the fake's jobs left running (a test that failed half-way).
func killFakeJobs(t *testing.T, state string) {
	cmd := exec.Command("/usr/bin/python3", filepath.Join(FakeBin(""), "fakesched.py"), "--killall", state)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("cleaning up the fake scheduler's jobs: %v\n%s", err, out)
	}
}

// FakeJobsLive lists the names of the jobs a fake scheduler still runs (its state directory).
func FakeJobsLive(t testing.TB, state string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(state, "jobs", "*.json"))
	var live []string
	for _, f := range files {
		var job struct {
			Name  string   `json:"name"`
			Ended *float64 `json:"ended"`
		}
		data, err := os.ReadFile(f)
		if err != nil || json.Unmarshal(data, &job) != nil {
			t.Fatalf("unreadable fake job %s: %v", f, err)
		}
		if job.Ended == nil {
			live = append(live, job.Name)
		}
	}
	return live
}

// WaitNoFakeJobs waits (10 s at most) until the fake scheduler runs no job.
func WaitNoFakeJobs(t testing.TB, state string) {
	t.Helper()
	if !testutil.Within(10*time.Second, func() bool { return len(FakeJobsLive(t, state)) == 0 }) { // the scheduler reaps cancelled jobs
		t.Fatalf("jobs left in the fake scheduler: %v", FakeJobsLive(t, state))
	}
}
