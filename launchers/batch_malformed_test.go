package launchers_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipcluster/internal/harness"
	"ipcluster/launchers"
)

// TestMalformedSubmitOutput makes the fake submit commands misbehave: submit but print no job
// id, print an error message and exit 0, submit and exit non-zero. Start must fail with an
// error that quotes the command and what it printed, and leave nothing submitted.
func TestMalformedSubmitOutput(t *testing.T) {
	cases := []struct{ mode, wantErr string }{
		{"noid", "no job id"},
		{"error", "no job id"},
		{"exit", "exit status 1"},
	}
	submits := map[string]string{"pbs": "qsub ", "pbspro": "qsub ", "lsf": "`bsub`", "htcondor": "condor_submit ", "winhpc": "job submit /jobfile:"}
	said := map[string]map[string]string{
		"pbs":      {"noid": "qsub: job submitted", "error": "Unauthorized Request", "exit": "Timed out waiting for server response"},
		"pbspro":   {"noid": "qsub: job submitted", "error": "Unauthorized Request", "exit": "Failed to save job"},
		"lsf":      {"noid": "Job is submitted to default queue", "error": "User permission denied", "exit": "Request aborted by esub"},
		"htcondor": {"noid": "Job(s) submitted.", "error": "Failed to connect to local queue manager", "exit": "Failed to commit job submission"},
		"winhpc":   {"noid": "Job has been submitted.", "error": "The scheduler could not be reached", "exit": "the operation has timed out"},
	}
	for _, name := range fakeSchedulers {
		for _, c := range cases {
			t.Run(name+"/"+c.mode, func(t *testing.T) {
				state := harness.FakeScheduler(t, name)
				t.Setenv("FAKESCHED_MISBEHAVE", c.mode)
				l := launchers.NewBatch(row(t, name), launchers.BatchOptions{})
				dir := t.TempDir()
				os.MkdirAll(filepath.Join(dir, "log"), 0o755)
				h, err := l.Start(context.Background(), launchers.Request{Role: launchers.Engines, N: 2, Command: []string{"/bin/sleep", "60"},
					WorkDir: dir, ProfileDir: dir, ClusterID: "malformed", SetID: "1", LogDir: filepath.Join(dir, "log")})
				if err == nil {
					l.Stop(context.Background(), h)
					t.Fatalf("Start succeeded with handle %+v", h)
				}
				msg := err.Error()
				for _, want := range []string{c.wantErr, submits[name], said[name][c.mode]} {
					if !strings.Contains(msg, want) {
						t.Errorf("error lacks %q:\n%s", want, msg)
					}
				}
				harness.WaitNoFakeJobs(t, state)
			})
		}
	}
}

// ipyparallel's documentation shows this PBS template (Python 2 era, "{n/4}").
const ipyparallelPBSTemplate = `#PBS -N ipython
#PBS -j oe
#PBS -l walltime=00:10:00
#PBS -l nodes={n/4}:ppn=4
#PBS -q {queue}

cd $PBS_O_WORKDIR
export PATH=$HOME/usr/local/bin
export PYTHONPATH=$HOME/usr/local/lib/python2.7/site-packages
/usr/local/bin/mpiexec -n {n} ipengine --profile-dir={profile_dir}
`

// TestIPyParallelDocsTemplate renders the template from ipyparallel's documentation and
// submits it to the PBS fake: the job keeps the name the template gives it (#PBS -N ipython),
// as with ipyparallel, which names jobs in its default templates only.
func TestIPyParallelDocsTemplate(t *testing.T) {
	state := harness.FakeScheduler(t, "pbs")
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "log"), 0o755)
	t.Chdir(dir) // without -o, PBS writes <name>.o<id> in the directory qsub ran in
	l := launchers.NewBatch(row(t, "pbs"), launchers.BatchOptions{BatchTemplate: ipyparallelPBSTemplate, Queue: "batch"})
	req := launchers.Request{Role: launchers.Engines, N: 8, Command: []string{"ipengine"}, WorkDir: dir, ProfileDir: dir,
		ClusterID: "docs", SetID: "1", LogDir: filepath.Join(dir, "log")}
	s, err := l.(launchers.Renderer).Render(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	text := s.Files[0].Text
	for _, want := range []string{"#PBS -N ipython\n", "#PBS -l nodes=2:ppn=4\n", "#PBS -q batch\n", "mpiexec -n 8 ipengine --profile-dir=" + dir + "\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered template lacks %q:\n%s", want, text)
		}
	}
	if got, want := strings.Join(s.Submit, " "), "qsub "+s.Files[0].Path; got != want {
		t.Errorf("submit command %q, want %q: a -N there would override the template's own #PBS -N", got, want)
	}
	h, err := l.Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.JobIDs) != 1 || !strings.HasSuffix(h.JobIDs[0], ".server") {
		t.Errorf("job ids %v", h.JobIDs)
	}
	if live := harness.FakeJobsLive(t, state); len(live) != 1 || live[0] != "ipython" {
		t.Errorf("the scheduler runs jobs named %q, want the template's name \"ipython\"", live)
	}
	if err := l.Stop(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	harness.WaitNoFakeJobs(t, state)
}
