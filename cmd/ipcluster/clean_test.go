package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// A damaged cluster file leads nowhere, but the controller and engine it recorded still
// run: clean must name them and remove nothing, and with --force stop them first.
func TestCleanKeepsFilesOfLiveClusterWithUnreadableFile(t *testing.T) {
	e := newEnv(t)
	e.mustIPCluster("start", "--engine-kind=go", "-n", "1", "--daemonize")
	security := filepath.Join(e.dir, "profile_default", "security")
	if err := os.WriteFile(filepath.Join(security, "cluster-.json"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := e.ipcluster("clean")
	if code == 0 || !strings.Contains(out, "ipcontroller") || !strings.Contains(out, "ipengine") || !strings.Contains(out, "--force") {
		t.Fatalf("clean of a live cluster with a damaged file exited %d:\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(security, "ipcontroller-client.json")); err != nil {
		t.Errorf("clean removed the connection file of the live controller: %v", err)
	}
	if len(e.processes()) < 2 {
		t.Errorf("clean without --force stopped processes: %v", e.processes())
	}
	if out, code := e.ipcluster("start", "--engine-kind=go", "-n", "1", "--daemonize"); code != exitAlreadyStarted {
		t.Errorf("start over the live cluster exited %d, want %d:\n%s", code, exitAlreadyStarted, out)
	}
	e.mustIPCluster("clean", "--force")
	e.assertNoProcesses()
	if files, _ := filepath.Glob(filepath.Join(security, "*.json")); len(files) != 0 {
		t.Errorf("files left after clean --force: %v", files)
	}
}

// Of several `ipcluster start` at once on one cluster, exactly one starts it.
func TestConcurrentStartsStartOneCluster(t *testing.T) {
	e := newEnv(t)
	type result struct {
		out  string
		code int
	}
	results := make([]result, 6)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, code := e.ipcluster("start", "--engine-kind=go", "-n", "1", "--daemonize")
			results[i] = result{out, code}
		}()
	}
	wg.Wait()
	won := 0
	for _, r := range results {
		switch {
		case r.code == 0:
			won++
		case r.code != exitAlreadyStarted || !strings.Contains(r.out, "already running"):
			t.Errorf("a losing start exited %d, want %d and \"already running\":\n%s", r.code, exitAlreadyStarted, r.out)
		}
	}
	if won != 1 {
		t.Errorf("%d starts succeeded, want 1: %+v", won, results)
	}
	if got := engineCount(e, ""); got != "[0]" {
		t.Errorf("the cluster has engines %s, want [0]", got)
	}
	e.mustIPCluster("stop")
	e.assertNoProcesses()
}
