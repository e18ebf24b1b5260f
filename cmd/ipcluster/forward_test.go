package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ipcluster start --IPController.x=y --IPEngine.z=w: settings of the controller's and the
// engines' classes reach those programs, as their own command lines would take them.
func TestControllerAndEngineTraitsAreForwarded(t *testing.T) {
	e := newEnv(t)
	workDir := t.TempDir()
	out := e.mustIPCluster("start", "--engine-kind=go", "-n", "1", "--daemonize",
		"--IPController.transport=ipc", "--HeartMonitor.period=700", "--IPEngine.work_dir="+workDir)
	if strings.Contains(out, "unknown class") {
		t.Errorf("forwarded settings were warned about as ipcluster's own:\n%s", out)
	}
	data, err := os.ReadFile(filepath.Join(e.dir, "profile_default", "security", "ipcontroller-client.json"))
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Interface string `json:"interface"`
	}
	if err := json.Unmarshal(data, &info); err != nil || !strings.HasPrefix(info.Interface, "ipc://") {
		t.Errorf("--IPController.transport=ipc did not reach the controller: interface %q (%v)", info.Interface, err)
	}
	if got := e.mustIPCluster("px", "--", "pwd"); !strings.Contains(got, workDir) {
		t.Errorf("--IPEngine.work_dir did not reach the engine: px pwd gave\n%s", got)
	}
	e.mustIPCluster("stop")
}
