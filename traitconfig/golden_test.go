package traitconfig

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// Small option structs standing in for the launchers' own, to decode the documented examples.
type goldenEngine struct {
	EngineCmd   []string      `config:"engine_cmd" json:"engine_cmd"`
	EngineArgs  []string      `config:"engine_args" json:"engine_args"`
	StopTimeout time.Duration `config:"stop_timeout" json:"stop_timeout_ns"`
}

type goldenSSH struct {
	goldenEngine
	Engines map[string]sshHost `config:"engines" json:"engines"`
	SSHArgs []string           `config:"ssh_args" json:"ssh_args"`
}

type goldenBatch struct {
	Queue             string         `config:"queue" json:"queue"`
	BatchTemplate     string         `config:"batch_template" json:"batch_template"`
	BatchTemplateFile string         `config:"batch_template_file" json:"batch_template_file"`
	JobIDRegexp       string         `config:"job_id_regexp" json:"job_id_regexp"`
	Namespace         map[string]any `config:"namespace" json:"namespace"`
	StopTimeout       time.Duration  `config:"stop_timeout" json:"stop_timeout_ns"`
}

type goldenSlurm struct {
	goldenBatch
	Account   string `config:"account" json:"account"`
	QOS       string `config:"qos" json:"qos"`
	Timelimit string `config:"timelimit" json:"timelimit"`
}

type goldenMPI struct {
	goldenEngine
	MPICmd  []string `config:"mpi_cmd" json:"mpi_cmd"`
	MPIArgs []string `config:"mpi_args" json:"mpi_args"`
}

type goldenCluster struct {
	N                   int     `config:"n" json:"n"`
	EngineLauncherClass string  `config:"engine_launcher_class" json:"engine_launcher_class"`
	Delay               float64 `config:"delay" json:"delay"`
}

func TestGoldenDocumentedExamples(t *testing.T) {
	path := filepath.Join("testdata", "config", "ipcluster_config.py")
	cfg, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	engine := goldenEngine{EngineCmd: []string{"ipengine"}, StopTimeout: 60 * time.Second}
	targets := []struct {
		name  string
		chain Chain
		opts  any
	}{
		{"cluster", Chain{{"Cluster", "IPClusterEngines", "IPClusterStart"}}, &goldenCluster{Delay: 1.0}},
		{"ssh_engines", ChainOf("SSHEngineSetLauncher", "LocalEngineSetLauncher", "SSHLauncher", "EngineLauncher", "BaseLauncher"),
			&goldenSSH{goldenEngine: engine, SSHArgs: []string{"-tt"}}},
		{"pbs_engines", ChainOf("PBSEngineSetLauncher", "PBSLauncher", "BatchSystemLauncher", "BaseLauncher"), &goldenBatch{}},
		{"pbs_controller", ChainOf("PBSControllerLauncher", "PBSLauncher", "BatchSystemLauncher", "BaseLauncher"), &goldenBatch{}},
		{"slurm_engines", ChainOf("SlurmEngineSetLauncher", "SlurmLauncher", "BatchSystemLauncher", "BaseLauncher"), &goldenSlurm{}},
		{"mpi_engines", ChainOf("MPIEngineSetLauncher", "MPILauncher", "LocalProcessLauncher", "EngineLauncher", "BaseLauncher"),
			&goldenMPI{goldenEngine: engine, MPICmd: []string{"mpiexec"}}},
	}
	out := map[string]any{"files": cfg.Files()}
	knownSets := map[string]map[string]bool{}
	for _, tg := range targets {
		if err := cfg.Decode(tg.chain, tg.opts); err != nil {
			t.Fatalf("%s: %v", tg.name, err)
		}
		out[tg.name] = tg.opts
		specs, _ := Describe(tg.opts)
		for _, class := range tg.chain.Classes() {
			if knownSets[class] == nil {
				knownSets[class] = map[string]bool{}
			}
			for _, s := range specs {
				knownSets[class][s.Name] = true
			}
		}
	}
	var assigned []map[string]any
	for _, a := range cfg.Assignments() {
		assigned = append(assigned, map[string]any{"name": a.Name(), "value": a.Value, "lazy": a.Lazy, "source": a.Source.String()})
	}
	out["assignments"] = assigned
	known := map[string][]string{}
	for class, set := range knownSets {
		for name := range set {
			known[class] = append(known[class], name)
		}
		sort.Strings(known[class])
	}
	warnings := []string{}
	for _, w := range cfg.Check(known) {
		warnings = append(warnings, w.String())
	}
	out["warnings"] = warnings
	got, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "config", "ipcluster_config.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (create it with go test ./traitconfig -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("decoded config differs from %s (go test ./traitconfig -update rewrites it):\n%s", golden, got)
	}
}

// debianPython is Debian's, with traitlets and IPython (python3-ipyparallel's dependencies).
const debianPython = "/usr/bin/python3"

// dumpWithTraitlets runs traitlets' own loader on a file and prints what it read, in the
// shape pythonShape gives ours: floats as their repr, lazy values as their to_dict().
const dumpWithTraitlets = `
import json, os, sys
from traitlets.config.loader import PyFileConfigLoader, LazyConfigValue
def conv(v):
    if isinstance(v, LazyConfigValue):
        return {"lazy": conv(v.to_dict())}
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    if isinstance(v, float):
        return {"float": repr(v)}
    if isinstance(v, bytes):
        return v.decode("latin-1")
    if isinstance(v, (list, tuple)):
        return [conv(x) for x in v]
    if isinstance(v, dict):
        return {str(k): conv(x) for k, x in v.items()}
    raise TypeError(repr(v))
p = os.path.abspath(sys.argv[1])
cfg = PyFileConfigLoader(os.path.basename(p), os.path.dirname(p)).load_config()
print(json.dumps({cls: {t: conv(v) for t, v in sec.items()} for cls, sec in cfg.items()}))
`

func pythonShape(v any) any {
	switch v := v.(type) {
	case float64:
		return map[string]any{"float": formatFloat(v)}
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = pythonShape(x)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = pythonShape(x)
		}
		return out
	}
	return v
}

// crossCheck parses path with ParsePython and with traitlets and compares every value.
func crossCheck(t *testing.T, path string) int {
	t.Helper()
	if _, err := os.Stat(debianPython); err != nil {
		t.Fatalf("%s missing: run `make deps` (python3-ipyparallel brings traitlets)", debianPython)
	}
	cmd := exec.Command(debianPython, "-c", dumpWithTraitlets, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("traitlets on %s: %v\n%s", path, err, stderr.String())
	}
	var fromPython map[string]map[string]any
	if err := json.Unmarshal(raw, &fromPython); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]map[string]any{}
	for _, a := range cfg.Assignments() {
		if ours[a.Class] == nil {
			ours[a.Class] = map[string]any{}
		}
		v := pythonShape(a.Value)
		if a.Lazy != nil {
			d := map[string]any{}
			if len(a.Lazy.Update) > 0 {
				d["update"] = pythonShape(a.Lazy.Update)
			}
			if len(a.Lazy.Extend) > 0 {
				d["extend"] = pythonShape(a.Lazy.Extend)
			}
			if len(a.Lazy.Prepend) > 0 {
				d["prepend"] = pythonShape(a.Lazy.Prepend)
			}
			v = map[string]any{"lazy": d}
		}
		ours[a.Class][a.Trait] = v
	}
	// Round-trip ours through JSON so both sides hold the same Go types.
	b, _ := json.Marshal(ours)
	ours = nil
	if err := json.Unmarshal(b, &ours); err != nil {
		t.Fatal(err)
	}
	n := 0
	for class, traits := range fromPython {
		for trait, want := range traits {
			n++
			if got, ok := ours[class][trait]; !ok || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: c.%s.%s: traitlets read %s, we read %s", path, class, trait, mustJSON(want), mustJSON(got))
			}
		}
	}
	for class, traits := range ours {
		for trait := range traits {
			if _, ok := fromPython[class][trait]; !ok {
				t.Errorf("%s: c.%s.%s: read by us, not by traitlets", path, class, trait)
			}
		}
	}
	return n
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestCrossCheckWithTraitlets(t *testing.T) {
	// The documented examples.
	if n := crossCheck(t, filepath.Join("testdata", "config", "ipcluster_config.py")); n < 15 {
		t.Errorf("only %d values compared", n)
	}
	// Every literal form of TestParseLiterals, and lazy appends and updates.
	var b strings.Builder
	b.WriteString("c = get_config()\n")
	for i, src := range literalForms() {
		fmt.Fprintf(&b, "c.Literals.v%d = %s\n", i, src)
	}
	b.WriteString(`c.Lazy.l.append('x')
c.Lazy.l.extend(['y', 1])
c.Lazy.l.prepend([0])
c.Lazy.d.update({'a': 1})
c.Lazy.d.update({'b': (2, 3)})
c.Real.l = [1]
c.Real.l.append(2)
c.Real.l += [3]
c.Real.l.extend((4,))
c.Real.d = {'a': 1}
c.Real.d.update({'b': 2})
`)
	path := filepath.Join(t.TempDir(), "literals_config.py")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	crossCheck(t, path)
}

// literalForms are the sources of TestParseLiterals.
func literalForms() []string {
	var out []string
	for _, c := range parseLiteralCases() {
		out = append(out, c.src)
	}
	return out
}

// A profile made by Python's `ipython profile create --parallel` loads: its files are long
// and nearly all comments. Uncommented, its ~1000 default values read as traitlets reads them.
func TestIPythonProfileCreate(t *testing.T) {
	if out, err := exec.Command(debianPython, "-c", "import IPython, ipyparallel").CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import IPython and ipyparallel: run `make deps` (Debian python3-ipyparallel): %v\n%s", debianPython, err, out)
	}
	dir := filepath.Join(t.TempDir(), "profile_x")
	cmd := exec.Command(debianPython, "-m", "IPython", "profile", "create", "--parallel", "--profile-dir="+dir)
	cmd.Env = append(os.Environ(), "IPYTHONDIR="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ipython profile create: %v\n%s", err, out)
	}
	for _, app := range []string{"ipcluster", "ipcontroller", "ipengine"} {
		cfg, err := LoadFile(filepath.Join(dir, app+"_config.py"))
		if err != nil {
			t.Errorf("%s: %v", app, err)
			continue
		}
		if len(cfg.Files()) != 1 || len(cfg.Assignments()) != 0 {
			t.Errorf("%s: files %v, %d assignments", app, cfg.Files(), len(cfg.Assignments()))
		}
		data, err := os.ReadFile(filepath.Join(dir, app+"_config.py"))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("c = get_config()\n")
		skipped := 0
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(line, "# c.") {
				continue
			}
			if _, v, _ := strings.Cut(line, " = "); strings.HasPrefix(v, "<") { // <class '...'>: not a literal
				skipped++
				continue
			}
			b.WriteString(line[2:] + "\n")
		}
		uncommented := filepath.Join(t.TempDir(), app+"_config.py")
		if err := os.WriteFile(uncommented, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if n := crossCheck(t, uncommented); n < 100 {
			t.Errorf("%s: only %d defaults compared", app, n)
		}
		if skipped > 2 {
			t.Errorf("%s: %d defaults skipped as not literals", app, skipped)
		}
	}
}
