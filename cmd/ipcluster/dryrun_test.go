package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"ipcluster/internal/harness"
	"ipcluster/internal/shellquote"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// The engine command is fixed so that the golden files do not depend on which engine the
// machine would get by default.
const goldenEngineCmd = "c.EngineLauncher.engine_cmd = ['/opt/ipp/bin/ipengine']\n"

// The SSH example of ipyparallel's documentation ("Using ipcluster in SSH mode"): 19 engines.
const manualSSHEngines = `c.SSHEngineSetLauncher.engines = { 'host1.example.com' : 2,
            'host2.example.com' : 5,
            'host3.example.com' : (1, ['--profile-dir=/home/different/location']),
            'host4.example.com' : {'n': 3, 'engine_args': ['--profile-dir=/away/location'], 'engine_cmd': ['/home/venv/bin/python', '-m', 'ipyparallel.engine']},
            'host5.example.com' : 8 }
`

// TestDryRunGolden compares `ipcluster start --dry-run` for MPI and SSH engines with
// testdata/golden/dryrun.*.golden (`go test ./cmd/ipcluster -run Golden -update` rewrites them).
func TestDryRunGolden(t *testing.T) {
	cases := []struct {
		name, config string
		args         []string
	}{
		{"mpi", "c.MPILauncher.mpi_args = ['--oversubscribe']\n", []string{"--engines=mpi", "-n", "4"}},
		{"ssh", manualSSHEngines, []string{"--engines=ssh"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.writeConfig(goldenEngineCmd + tc.config)
			out := e.mustIPCluster(append([]string{"start", "--dry-run"}, tc.args...)...)
			got := strings.NewReplacer(e.dir, "$IPYTHONDIR", binDir, "$BIN").Replace(out)
			path := filepath.Join("..", "..", "testdata", "golden", "dryrun."+tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./cmd/ipcluster -run Golden -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("dry run differs from %s (-update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

// setIDs are the engine set ids (milliseconds) in job and file names: a dry run and a start
// made at different times differ only there.
var setIDs = regexp.MustCompile(`(ipengine-[a-z]+-)\d{13}`)

func sameSet(s string) string { return setIDs.ReplaceAllString(s, "${1}SETID") }

// TestDryRunIsWhatBatchStartSubmits: every file and submit command line the PBS fake was
// given by a real start is in the dry run's output, byte for byte.
func TestDryRunIsWhatBatchStartSubmits(t *testing.T) {
	state := harness.FakeScheduler(t, "pbs")
	e := newEnv(t)
	e.writeConfig("c.PBSLauncher.queue = 'batch'\nc.PBSEngineSetLauncher.batch_template = '''#!/bin/sh\n#PBS -N mine\n#PBS -q {queue}\n#PBS -t 1-{n}\n#PBS -j oe\n#PBS -o {output_file}\n{program_and_args}\n'''\n")
	args := []string{"start", "-n", "2", "--engines=pbs", "--controller=pbs", "--cluster-id=same"}
	dry := sameSet(e.mustIPCluster(append(args, "--dry-run")...))
	e.mustIPCluster(append(args, "--daemonize")...)
	jobs, _ := filepath.Glob(filepath.Join(state, "jobs", "*.json"))
	if len(jobs) != 2 {
		t.Fatalf("the start submitted %d jobs, want 2", len(jobs))
	}
	for _, f := range jobs {
		var job struct {
			Name   string   `json:"name"`
			Argv   []string `json:"submit_argv"`
			Script string   `json:"script"`
		}
		data, _ := os.ReadFile(f)
		if err := json.Unmarshal(data, &job); err != nil {
			t.Fatal(err)
		}
		role := "controller"
		if job.Name == "mine" {
			role = "engines"
		}
		file := job.Argv[len(job.Argv)-1]
		for _, want := range []string{"# " + role + " (pbs): " + file + "\n" + job.Script + "\n",
			"# " + role + " submit command:\n" + shellquote.Join(job.Argv) + "\n"} {
			if want = sameSet(want); !strings.Contains(dry, want) {
				t.Errorf("the dry run does not show what the start submitted:\n%s\n--- dry run:\n%s", want, dry)
			}
		}
	}
	e.mustIPCluster("stop", "--cluster-id=same")
	harness.WaitNoFakeJobs(t, state)
}

// TestDryRunIsWhatMPIStartRuns: the command lines of the controller and of mpiexec, read
// from /proc while they run, are lines of the dry run's output.
func TestDryRunIsWhatMPIStartRuns(t *testing.T) {
	e := newEnv(t)
	// as root, Open MPI needs --allow-run-as-root; more ranks than cores need --oversubscribe
	e.writeConfig("c.MPILauncher.mpi_args = ['--allow-run-as-root', '--oversubscribe']\n")
	args := []string{"start", "-n", "2", "--engines=mpi", "--cluster-id=mpi"}
	dry := e.mustIPCluster(append(args, "--dry-run")...)
	e.mustIPCluster(append(args, "--daemonize")...)
	var file struct {
		Controller struct {
			State struct{ Processes []struct{ PID int } } `json:"state"`
		} `json:"controller"`
		Engines struct {
			Sets map[string]struct{ Processes []struct{ PID int } } `json:"sets"`
		} `json:"engines"`
	}
	data, err := os.ReadFile(filepath.Join(e.dir, "profile_default", "security", "cluster-mpi.json"))
	if err != nil || json.Unmarshal(data, &file) != nil {
		t.Fatalf("cluster file: %v %s", err, data)
	}
	pids := []int{file.Controller.State.Processes[0].PID}
	for _, set := range file.Engines.Sets {
		for _, p := range set.Processes {
			pids = append(pids, p.PID)
		}
	}
	if len(pids) != 2 {
		t.Fatalf("processes %v, want the controller and one mpiexec", pids)
	}
	lines := strings.Split(dry, "\n")
	for _, pid := range pids {
		cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err != nil {
			t.Fatal(err)
		}
		argv := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
		if want := shellquote.Join(argv); !slices.Contains(lines, want) {
			t.Errorf("the dry run has no line %q (what process %d runs):\n%s", want, pid, dry)
		}
	}
	e.mustIPCluster("stop", "--cluster-id=mpi")
	e.assertNoProcesses()
}
