package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipcluster/internal/harness"
)

// map on Go engines running in a real Slurm job: every task runs inside the job (its
// SLURM_JOB_ID is the engines' job), the journal names the engine and its host, and stop
// leaves nothing in the queue.
func TestMapOnSlurmEngines(t *testing.T) {
	harness.Slurm(t)
	e := newEnv(t)
	out := e.mustIPCluster("start", "--engine-kind=go", "-n", "2", "--engines=slurm", "--daemonize", "--cluster-id=maptest")
	if !strings.Contains(out, "engines: 2/2 registered") {
		t.Fatalf("start output:\n%s", out)
	}
	st := listOne(t, e)
	if len(st.JobIDs) != 1 {
		t.Fatalf("list: %+v", st)
	}
	dir := filepath.Join(e.dir, "out")
	log := e.mustIPCluster("map", "--cluster-id=maptest", "--range", "1-40", "--output-dir", dir, "--", "echo {} $SLURM_JOB_ID")
	if !strings.Contains(log, "40 succeeded, 0 failed") {
		t.Fatalf("map:\n%s", log)
	}
	entries := readJournal(t, dir)
	if len(entries) != 40 {
		t.Fatalf("journal has %d entries", len(entries))
	}
	for _, en := range entries {
		got, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.out", en.Seq)))
		if want := fmt.Sprintf("%d %s\n", en.Seq, st.JobIDs[0]); string(got) != want || en.Host == "" || !en.succeeded() {
			t.Errorf("task %d printed %q (want %q), journal %+v", en.Seq, got, want, en)
		}
	}
	e.mustIPCluster("stop", "--cluster-id=maptest")
	if q := squeueIDs(t); strings.Contains(q, "maptest") {
		t.Errorf("jobs left in squeue after stop:\n%s", q)
	}
}
