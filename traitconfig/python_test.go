package traitconfig

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"ipcluster/pyfind"
)

// withoutPython makes the test run as on a machine with no Python: IPCLUSTER_PYTHON=none
// and a PATH holding no python3 at all.
func withoutPython(t *testing.T) {
	t.Helper()
	t.Setenv(pyfind.EnvVar, "none")
	t.Setenv("PATH", t.TempDir())
	if _, err := exec.LookPath("python3"); err == nil {
		t.Fatal("python3 still on PATH")
	}
	pyfind.Reset()
	t.Cleanup(pyfind.Reset)
}

// needPython returns the Python that evaluates config files; the tests of evaluation
// cannot pass without one (the project's test machines have /usr/bin/python3 with traitlets).
func needPython(t *testing.T) string {
	t.Helper()
	py, err := configPython()
	if err != nil {
		t.Fatalf("these tests need python3 with traitlets (apt-get install python3-traitlets): %v", err)
	}
	return py
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPythonConfigIsEvaluatedByPython(t *testing.T) {
	needPython(t)
	ipdir := t.TempDir()
	t.Setenv("IPYTHONDIR", ipdir)
	t.Setenv("IPP_TEST_USER", "alice")
	dir := t.TempDir()
	writeFile(t, dir, "common_config.py", "c.SSHLauncher.ssh_args = ['-q']\nc.IPController.ip = 'from-common'\n")
	writeFile(t, ipdir, "profile_other/shared_config.py", "c.Shared.value = 'other profile'\n")
	path := writeFile(t, dir, "ipcontroller_config.py", `import os
import socket
c = get_config()
load_subconfig('common_config.py')
load_subconfig('shared_config.py', profile='other')
c.IPController.ip = '*'
c.IPController.location = socket.gethostbyname('localhost')
hosts = {}
for i in range(3):
    hosts['node%d' % i] = i + 1
c.SSHEngineSetLauncher.engines = hosts
c.SSHControllerLauncher.user = os.environ.get('IPP_TEST_USER', 'username')
c.EngineLauncher.engine_args.append('--debug')
c.Extra.names.insert(0, 'first')
c.Extra.env.update({'A': '1'})
c.Extra.ratio = 0.5
c.Extra.flags = (True, None)
print('config says hello')  # output of the file must not disturb the result
`)
	cfg, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	common := filepath.Join(dir, "common_config.py")
	want := []struct {
		class, trait string
		value        any
		where        string
	}{
		{"IPController", "ip", "*", path + ":6"},
		{"IPController", "location", "127.0.0.1", path + ":7"},
		{"SSHEngineSetLauncher", "engines", map[string]any{"node0": int64(1), "node1": int64(2), "node2": int64(3)}, path + ":11"},
		{"SSHControllerLauncher", "user", "alice", path + ":12"},
		{"SSHLauncher", "ssh_args", []any{"-q"}, common + ":1"},
		{"Shared", "value", "other profile", filepath.Join(ipdir, "profile_other", "shared_config.py") + ":1"},
		{"Extra", "ratio", 0.5, path + ":16"},
		{"Extra", "flags", []any{true, nil}, path + ":17"},
	}
	for _, w := range want {
		a, ok := cfg.Get(w.class, w.trait)
		if !ok || !reflect.DeepEqual(a.Value, w.value) || a.Source.String() != w.where {
			t.Errorf("c.%s.%s = %#v from %s (set: %v); want %#v from %s", w.class, w.trait, a.Value, a.Source, ok, w.value, w.where)
		}
	}
	// Pending changes of container traits come back as Lazy, applied to the default later.
	args, _ := cfg.Get("EngineLauncher", "engine_args")
	if v, err := args.Lazy.Apply([]any{"--x"}); err != nil || !reflect.DeepEqual(v, []any{"--x", "--debug"}) || args.Source.String() != path+":13" {
		t.Errorf("append: %+v from %s -> %v, %v", args.Lazy, args.Source, v, err)
	}
	items, _ := cfg.Get("Extra", "names")
	if v, err := items.Lazy.Apply([]any{"a"}); err != nil || !reflect.DeepEqual(v, []any{"first", "a"}) {
		t.Errorf("insert: %+v -> %v, %v", items.Lazy, v, err)
	}
	env, _ := cfg.Get("Extra", "env")
	if v, err := env.Lazy.Apply(map[string]any{"B": "2"}); err != nil || !reflect.DeepEqual(v, map[string]any{"A": "1", "B": "2"}) {
		t.Errorf("update: %+v -> %v, %v", env.Lazy, v, err)
	}
	// Decode reads the evaluated values as it reads literal ones.
	var opts struct {
		Engines map[string]int `config:"engines"`
	}
	if err := cfg.Decode(ChainOf("SSHEngineSetLauncher"), &opts); err != nil || opts.Engines["node2"] != 3 {
		t.Errorf("decode: %+v %v", opts, err)
	}
}

func TestPythonConfigWarningsNameFileAndLine(t *testing.T) {
	needPython(t)
	path := writeFile(t, t.TempDir(), "ipcontroller_config.py", `import socket
c = get_config()
for name in ['ip']:
    setattr(c.IPController, name, '*')
c.IPController.locaton = socket.gethostbyname('localhost')
`)
	cfg, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ws := cfg.Check(map[string][]string{"IPController": {"ip", "location"}})
	if len(ws) != 1 || ws[0].String() != path+":5: c.IPController.locaton: unknown trait; did you mean location?" {
		t.Errorf("warnings %v", ws)
	}
	if a, _ := cfg.Get("IPController", "ip"); a.Source.String() != path+":4" {
		t.Errorf("setattr in a loop: source %s", a.Source)
	}
}

func TestPythonConfigErrorsNameFileLineAndPythonMessage(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	writeFile(t, dir, "broken_sub_config.py", "c.A.b = 1\nc.A.c = 1 / 0\n")
	cases := []struct{ text, want string }{
		{"c = get_config()\nimport os\nc.IPController.ip = foo\n", "ipcontroller_config.py:3: NameError: name 'foo' is not defined"},
		{"c = get_config()\nc.X.y = (\n", "ipcontroller_config.py:2: SyntaxError: "},
		{"def f():\n    raise ValueError('no such host')\nc.X.y = 1 if True else 2\nf()\n", "ipcontroller_config.py:2: ValueError: no such host"},
		{"import sys\nc.X.y = 1\nsys.exit(3)\n", "ipcontroller_config.py:3: SystemExit: 3"},
		{"c.X.y = 1 if True else 0\nc.X.hosts = {'a', 'b'}\n", "ipcontroller_config.py:2: c.X.hosts: a set value ("},
		{"c.X.y = 1 if True else 0\nc.X.n = 2**70\n", "ipcontroller_config.py:2: c.X.n: integer 1180591620717411303424 does not fit in 64 bits"},
		{"c.X.y = 1 if True else 0\nc.X.f = float('nan')\n", "ipcontroller_config.py:2: c.X.f: nan cannot be passed on"},
		{"c.X.y = 1 if True else 0\nc.X.d = {1: 'a'}\n", "ipcontroller_config.py:2: c.X.d: dict key 1 is a int"},
		{"c.X.y = 1 if True else 0\nload_subconfig('broken_sub_config.py')\n", "broken_sub_config.py:2: ZeroDivisionError: division by zero"},
	}
	for _, tc := range cases {
		path := writeFile(t, dir, "ipcontroller_config.py", tc.text)
		_, err := LoadFile(path)
		if err == nil {
			t.Errorf("%q: no error", tc.text)
			continue
		}
		if !strings.Contains(err.Error(), string(filepath.Separator)+tc.want) {
			t.Errorf("%q:\n got %v\nwant ...%s", tc.text, err, tc.want)
		}
	}
}

func TestLiteralSubsetWithoutPython(t *testing.T) {
	withoutPython(t)
	dir := t.TempDir()
	path := writeFile(t, dir, "ipcluster_config.py", "c = get_config()\nc.Cluster.n = 3\nc.EngineLauncher.engine_args.append('--debug')\n")
	cfg, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := cfg.Get("Cluster", "n"); a.Value != int64(3) || a.Source.String() != path+":2" {
		t.Errorf("c.Cluster.n = %+v", a)
	}
	path = writeFile(t, dir, "ipcontroller_config.py", "c = get_config()\nc.IPController.ip = '*'\nimport socket\nc.IPController.location = socket.gethostname()\n")
	_, err = LoadFile(path)
	if err == nil {
		t.Fatal("import socket read without Python")
	}
	for _, want := range []string{path + ":3: `import socket` is not supported", "evaluating it needs python3 with traitlets", "python3-traitlets", pyfind.EnvVar} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nlacks %q", err, want)
		}
	}
}

func TestRenameOldNames(t *testing.T) {
	old := []OldName{
		{Class: "Cluster", Trait: "engine_set_launcher_class", NewClass: "Cluster", NewTrait: "engine_launcher_class"},
		{Class: "IPClusterStart", Trait: "n", NewClass: "Cluster", NewTrait: "n"},
		{Class: "IPClusterEngines", Trait: "n", NewClass: "Cluster", NewTrait: "n"},
		{Class: "IPClusterStart", Trait: "delay", NewClass: "Cluster", NewTrait: "delay", Ignored: "not here"},
	}
	for _, text := range []string{
		"c.IPClusterStart.n = 5\nc.IPClusterEngines.n = 3\n",
		"c.IPClusterEngines.n = 3\nc.IPClusterStart.n = 5\n",
	} {
		cfg := mustPy(t, "f.py", text+"c.Cluster.engine_set_launcher_class = 'MPI'\nc.IPClusterStart.delay = 2\nc.Other.x = 1\n")
		got, warnings := cfg.Rename(old)
		n, _ := got.Get("Cluster", "n")
		if n.Value != int64(5) || n.Class != "Cluster" {
			t.Errorf("%q: Cluster.n = %+v; want 5 (IPClusterStart over IPClusterEngines)", text, n)
		}
		if a, _ := got.Get("Cluster", "engine_launcher_class"); a.Value != "MPI" || a.Source.String() != "f.py:3" {
			t.Errorf("engine_set_launcher_class not moved: %+v", a)
		}
		if _, ok := got.Get("Cluster", "delay"); ok {
			t.Error("ignored delay applied")
		}
		if _, ok := got.Get("Other", "x"); !ok {
			t.Error("other assignments lost")
		}
		all := ""
		for _, w := range warnings {
			all += w.String() + "\n"
		}
		for _, want := range []string{
			"c.IPClusterStart.n is an old name; today it is c.Cluster.n",
			"c.IPClusterEngines.n = 3 is ignored: c.IPClusterStart.n = 5",
			"c.Cluster.engine_set_launcher_class is an old name; today it is c.Cluster.engine_launcher_class",
			"f.py:4: c.IPClusterStart.delay is ignored: not here",
		} {
			if !strings.Contains(all, want) {
				t.Errorf("%q: warnings lack %q:\n%s", text, want, all)
			}
		}
	}
	// Today's name wins over every old one.
	got, _ := mustPy(t, "g.py", "c.Cluster.n = 2\nc.IPClusterStart.n = 5\n").Rename(old)
	if n, _ := got.Get("Cluster", "n"); n.Value != int64(2) {
		t.Errorf("c.Cluster.n lost to an old name: %+v", n)
	}
}
