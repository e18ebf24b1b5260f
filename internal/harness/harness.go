// Package harness starts the real schedulers the tests use (single-node Slurm and Grid
// Engine) through the project's scripts/setup-*.sh, once per test binary. The daemons stay
// up for the next test binary; under `make test` the scripts record in $IPP_SERVICES_STARTED
// what they started, and make stops exactly that at the end.
package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

type result struct {
	once sync.Once
	err  error
	out  string
}

var started sync.Map // script -> *result

// start runs scripts/<script> once (it is idempotent: it starts the daemons only when they
// are not up) and fails the test with its output and a fix when it cannot.
func start(t testing.TB, script, what string) {
	t.Helper()
	v, _ := started.LoadOrStore(script, new(result))
	r := v.(*result)
	r.once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		path := filepath.Join(filepath.Dir(file), "..", "..", "scripts", script)
		out, err := exec.Command(path).CombinedOutput()
		if err != nil {
			r.err, r.out = err, string(out)
		}
	})
	if r.err != nil {
		t.Fatalf("cannot start %s with scripts/%s (%v):\n%s\nfix: run scripts/%s as root on Debian 12; it installs the packages with apt-get and starts the daemons without systemd",
			what, script, r.err, r.out, script)
	}
}

// Slurm makes sure single-node Slurm runs (sbatch, squeue, scancel work).
func Slurm(t testing.TB) { start(t, "setup-slurm.sh", "Slurm") }

// SGE makes sure single-node Grid Engine runs, and sets SGE_ROOT and SGE_CELL for its clients.
func SGE(t testing.TB) {
	start(t, "setup-sge.sh", "Grid Engine")
	os.Setenv("SGE_ROOT", "/var/lib/gridengine")
	os.Setenv("SGE_CELL", "default")
}
