package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

func TestLiveProcessesFindsClusterProcessesWithoutClusterFile(t *testing.T) {
	dir := t.TempDir()
	// an engine-like process: the launchers' environment names the profile and cluster
	engine := exec.Command("sleep", "60")
	engine.Env = append(os.Environ(), "IPP_PROFILE_DIR="+dir, "IPP_CLUSTER_ID=x")
	// a controller known only by its pid file
	controller := exec.Command("bash", "-c", "exec -a ipcontroller sleep 60")
	other := exec.Command("sleep", "60") // no part of any cluster
	for _, c := range []*exec.Cmd{engine, controller, other} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	}
	os.MkdirAll(filepath.Join(dir, "pid"), 0o755)
	os.WriteFile(filepath.Join(dir, "pid", "ipcontroller-y.pid"), []byte(strconv.Itoa(controller.Process.Pid)+"\n"), 0o644)
	var got map[int]string
	testutil.Within(5*time.Second, func() bool { // bash execs into sleep a moment after it starts
		got = map[int]string{}
		for _, p := range LiveProcesses(dir) {
			got[p.PID] = p.ClusterID
		}
		return len(got) == 2
	})
	if id, ok := got[engine.Process.Pid]; !ok || id != "x" {
		t.Errorf("engine by environment: %v", got)
	}
	if id, ok := got[controller.Process.Pid]; !ok || id != "y" {
		t.Errorf("controller by pid file: %v", got)
	}
	if _, ok := got[other.Process.Pid]; ok || len(got) != 2 {
		t.Errorf("found more than the cluster's processes: %v", got)
	}
	if len(LiveProcesses(t.TempDir())) != 0 {
		t.Error("processes found for another profile")
	}
}

func TestClusterOfArgsOnlyForClusterPrograms(t *testing.T) {
	for _, tc := range []struct {
		argv   []string
		dir    string
		id     string
		member bool
	}{
		{[]string{"/usr/bin/ipcontroller", "--profile-dir", "/p", "--cluster-id", "c"}, "/p", "c", true},
		{[]string{"/usr/bin/python3", "-m", "ipyparallel.engine", "--profile-dir=/p"}, "/p", "", true},
		{[]string{"ipcluster", "start", "--profile-dir=/p", "--cluster-id=c"}, "/p", "c", true},
		{[]string{"ipcluster", "list", "--profile-dir=/p"}, "", "", false},
		{[]string{"vim", "--profile-dir=/p"}, "", "", false},
		{[]string{"/usr/bin/ipengine"}, "", "", false},
	} {
		dir, id, ok := clusterOfArgs(tc.argv)
		if ok != tc.member || (ok && (dir != tc.dir || id != tc.id)) {
			t.Errorf("clusterOfArgs(%q) = %q %q %v, want %q %q %v", tc.argv, dir, id, ok, tc.dir, tc.id, tc.member)
		}
	}
}
