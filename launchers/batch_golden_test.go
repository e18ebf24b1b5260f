package launchers_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipcluster/launchers"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenVariants are the option sets every scheduler x role is rendered with.
var goldenVariants = map[string]launchers.BatchOptions{
	"plain": {},
	"full": {Queue: "QUEUE", Account: "ACCT", Walltime: "01:30:00", Memory: "4GB", Cores: 2, QoS: "QOS",
		Environment: map[string]string{"OMP_NUM_THREADS": "2"}, Prologue: []string{"module load python"},
		Epilogue: []string{"echo done"}, ExtraDirectives: []string{"EXTRA"}},
	"pernode": {EnginesPerNode: 2},
}

func goldenRequest(role launchers.Role) launchers.Request {
	p := "/home/user/.ipython/profile_default"
	prog := "/usr/local/bin/ipengine"
	n := 4
	if role == launchers.Controller {
		prog, n = "/usr/local/bin/ipcontroller", 1
	}
	return launchers.Request{Role: role, N: n, Command: []string{prog, "--profile-dir", p, "--cluster-id", "CID"},
		Env: map[string]string{"IPP_PROFILE_DIR": p, "IPP_CLUSTER_ID": "CID"}, WorkDir: "/home/user/work", ProfileDir: p,
		ClusterID: "CID", SetID: "1700000000000", LogDir: p + "/log"}
}

// goldenText is a rendered submission: the submit command, then each file.
func goldenText(s *launchers.Script) string {
	var b strings.Builder
	b.WriteString("# submit: " + strings.Join(s.Submit, " "))
	if s.Stdin {
		b.WriteString(" < " + s.Files[0].Path)
	}
	b.WriteString("\n")
	for _, f := range s.Files {
		b.WriteString("# ---- " + f.Path + "\n" + f.Text)
		if !strings.HasSuffix(f.Text, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// TestGoldenScripts renders every scheduler (each dialect is a row) x role x option set and
// compares with testdata/golden; `go test ./launchers -update` rewrites them.
func TestGoldenScripts(t *testing.T) {
	dir := filepath.Join("..", "testdata", "golden")
	seen := map[string]bool{}
	for _, r := range launchers.Schedulers() {
		for _, role := range []launchers.Role{launchers.Controller, launchers.Engines} {
			for variant, opts := range goldenVariants {
				if variant == "pernode" && role == launchers.Controller {
					continue
				}
				name := r.Name + "." + string(role) + "." + variant + ".golden"
				seen[name] = true
				l := launchers.NewBatch(r, opts).(launchers.Renderer)
				s, err := l.Render(context.Background(), goldenRequest(role))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				got := goldenText(s)
				path := filepath.Join(dir, name)
				if *update {
					os.MkdirAll(dir, 0o755)
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Errorf("%s: %v (run go test ./launchers -update)", name, err)
					continue
				}
				if got != string(want) {
					t.Errorf("%s differs from the golden file (go test ./launchers -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
				}
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.golden"))
	for _, f := range files {
		if !seen[filepath.Base(f)] && !strings.HasPrefix(filepath.Base(f), "dryrun.") { // dryrun.*: cmd/ipcluster's
			t.Errorf("stale golden file %s", f)
		}
	}
}
