package traitconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func mustPy(t *testing.T, name, src string) *Config {
	t.Helper()
	c, err := ParsePython(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseJSON(t *testing.T) {
	src := `{
  "version": 1,
  "SlurmLauncher": {
    "account": "ACCT",
    "timelimit": "01:00:00"
  },
  "Cluster": {"n": 4, "delay": 1.5, "engine_launcher_class": null,
              "controller_args": ["--ping=250"], "nested": {"a": [1, 2.0, true]}}
}`
	cfg, err := parseJSON("ipcluster_config.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		v   any
		src string
	}{
		"c.SlurmLauncher.account":         {"ACCT", "ipcluster_config.json:4"},
		"c.SlurmLauncher.timelimit":       {"01:00:00", "ipcluster_config.json:5"},
		"c.Cluster.n":                     {int64(4), "ipcluster_config.json:7"},
		"c.Cluster.delay":                 {1.5, "ipcluster_config.json:7"},
		"c.Cluster.engine_launcher_class": {nil, "ipcluster_config.json:7"},
		"c.Cluster.controller_args":       {[]any{"--ping=250"}, "ipcluster_config.json:8"},
		"c.Cluster.nested":                {map[string]any{"a": []any{int64(1), 2.0, true}}, "ipcluster_config.json:8"},
	}
	all := cfg.Assignments()
	if len(all) != len(want) {
		t.Fatalf("%d assignments, want %d: %+v", len(all), len(want), all)
	}
	for _, a := range all {
		w := want[a.Name()]
		if !reflect.DeepEqual(a.Value, w.v) || a.Source.String() != w.src {
			t.Errorf("%s = %#v from %s, want %#v from %s", a.Name(), a.Value, a.Source, w.v, w.src)
		}
	}
}

func TestParseJSONErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"{\n  \"Cluster\": {\"n\": 4,}\n}", "x.json:2: invalid JSON: invalid character '}'"},
		{"{\n  \"Cluster\": {\"n\": 4}", "x.json:2: invalid JSON: unexpected end of file"},
		{"[1]", "x.json:1: expected a JSON object {\"Class\": {\"trait\": value}}"},
		{"{\n\n \"Cluster\": 4}", "x.json:3: \"Cluster\" must be an object of traits {\"trait\": value}"},
		{"{\"cluster\": {\"n\": 4}}", "x.json:1: \"cluster\": expected a class name (starting with a capital letter) holding {\"trait\": value}"},
		{"{\"version\": 2}", "x.json:1: unsupported config version 2 (traitlets writes version 1)"},
		{"{\"A\": {\"n\": 1e999999}}", "x.json:1: c.A.n: number 1e999999 is out of range"},
		{"{\"A\": {\"n\": 99999999999999999999}}", "x.json:1: c.A.n: integer 99999999999999999999 does not fit in 64 bits"},
		{"{\"Cluster\": {\"SlurmLauncher\": {\"account\": \"x\"}}}", "x.json:1: nested config sections (Cluster.SlurmLauncher) are not supported"},
		{"{} {}", "x.json:1: unexpected data after the JSON object"},
	}
	for _, c := range cases {
		_, err := parseJSON("x.json", []byte(c.src))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q\n got %v\nwant %s", c.src, err, c.want)
		}
	}
}

func TestMergePrecedence(t *testing.T) {
	defaults := &Config{}
	defaults.Set("Cluster", "n", int64(1), Source{Name: "default"})
	defaults.Set("EngineLauncher", "engine_args", []any{"--log-level=20"}, Source{Name: "default"})
	defaults.Set("BatchSystemLauncher", "namespace", map[string]any{"a": int64(1)}, Source{Name: "default"})
	files := mustPy(t, "ipcluster_config.py", `c.Cluster.n = 4
c.SlurmLauncher.account = 'FILE'
c.SlurmLauncher.qos = 'normal'
c.EngineLauncher.engine_args.append('--debug')
c.BatchSystemLauncher.namespace.update({'b': 2})
c.MPILauncher.mpi_args.append('--oversubscribe')
`)
	env := &Config{}
	env.SetText("SlurmLauncher", "account", "ENV", Source{Name: "IPP_ACCOUNT"})
	cli := FromTraits([]Trait{{"SlurmLauncher", "qos", "high"}, {"MPILauncher", "mpi_args", "['-x']"}})
	cfg, err := Merge(defaults, files, nil, env, cli)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		v   any
		src string
	}{
		"c.Cluster.n":                     {int64(4), "ipcluster_config.py:1"},
		"c.SlurmLauncher.account":         {"ENV", "IPP_ACCOUNT"},
		"c.SlurmLauncher.qos":             {"high", "--SlurmLauncher.qos=high"},
		"c.EngineLauncher.engine_args":    {[]any{"--log-level=20", "--debug"}, "ipcluster_config.py:4"},
		"c.BatchSystemLauncher.namespace": {map[string]any{"a": int64(1), "b": int64(2)}, "ipcluster_config.py:5"},
		"c.MPILauncher.mpi_args":          {[]any{"-x"}, "--MPILauncher.mpi_args=['-x']"},
	}
	for name, w := range want {
		class, trait, _ := strings.Cut(strings.TrimPrefix(name, "c."), ".")
		a, ok := cfg.Get(class, trait)
		if !ok || !reflect.DeepEqual(a.Value, w.v) || a.Lazy != nil || a.Source.String() != w.src {
			t.Errorf("%s = %#v (lazy %+v) from %s, want %#v from %s", name, a.Value, a.Lazy, a.Source, w.v, w.src)
		}
	}
	// A later layer that appends to an earlier string is an error naming both places.
	bad := mustPy(t, "b.py", "c.SlurmLauncher.account.append('x')\n")
	_, err = Merge(files, bad)
	if err == nil || err.Error() != "b.py:1: c.SlurmLauncher.account: cannot extend 'FILE', a str (not a list) (c.SlurmLauncher.account is set at ipcluster_config.py:2)" {
		t.Errorf("append to a str: %v", err)
	}
	// Lazy layers combine: prepends of later layers go first, extends go last.
	l1 := mustPy(t, "1.py", "c.A.l.append(1)\nc.A.l.prepend([0])\n")
	l2 := mustPy(t, "2.py", "c.A.l.append(2)\nc.A.l.prepend([-1])\n")
	m, err := Merge(l1, l2)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := m.Get("A", "l")
	if got, _ := a.Lazy.Apply([]any{"base"}); !reflect.DeepEqual(got, []any{int64(-1), int64(0), "base", int64(1), int64(2)}) {
		t.Errorf("combined lazy: %#v", got)
	}
}

func TestFromTraits(t *testing.T) {
	cfg := FromTraits([]Trait{
		{"Cluster", "n", "4"}, {"SlurmLauncher", "account", "007"},
		{"EngineLauncher", "engine_args", "--debug"}, {"EngineLauncher", "engine_args", "--log-level=10"},
	})
	n, _ := cfg.Get("Cluster", "n")
	if n.Value != int64(4) || !reflect.DeepEqual(n.Text, []string{"4"}) || n.Source.String() != "--Cluster.n=4" {
		t.Errorf("n: %+v", n)
	}
	acct, _ := cfg.Get("SlurmLauncher", "account")
	if acct.Value != "007" { // not a Python literal: kept as text
		t.Errorf("account: %#v", acct.Value)
	}
	args, _ := cfg.Get("EngineLauncher", "engine_args")
	if !reflect.DeepEqual(args.Text, []string{"--debug", "--log-level=10"}) || !reflect.DeepEqual(args.Value, []any{"--debug", "--log-level=10"}) {
		t.Errorf("repeated trait: %+v", args)
	}
}

func TestLoadFileNamesTheFileInErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ipcontroller_config.py")
	if err := os.WriteFile(path, []byte("c = get_config()\n\nimport os\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	withoutPython(t)
	_, err := LoadFile(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":3: `import os` is not supported") {
		t.Errorf("import os: %v", err)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.py")); err == nil || !strings.Contains(err.Error(), "read config: open ") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := LoadFile(filepath.Join(dir, "config.yaml")); err == nil || !strings.Contains(err.Error(), "want a .py or .json file") {
		t.Errorf("yaml: %v", err)
	}
}

func TestLookupClassChain(t *testing.T) {
	slurmEngines := ChainOf("SlurmEngineSetLauncher", "SlurmLauncher", "BatchSystemLauncher", "BaseLauncher")
	slurmController := ChainOf("SlurmControllerLauncher", "SlurmLauncher", "BatchSystemLauncher", "BaseLauncher")
	cluster := Chain{{"Cluster", "IPClusterEngines", "IPClusterStart"}}
	files := mustPy(t, "f.py", `c.BatchSystemLauncher.queue = 'base'
c.SlurmLauncher.queue = 'slurm'
c.SlurmEngineSetLauncher.queue = 'engines'
c.SlurmLauncher.account = 'ACCT'
c.BaseLauncher.stop_timeout = 30
c.BatchSystemLauncher.submit_command = ['sbatch']
c.SlurmEngineSetLauncher.submit_command.append('--parsable')
c.IPClusterEngines.n = 2
c.Cluster.n = 4
`)
	cases := []struct {
		chain        Chain
		trait        string
		want         any
		class, where string
	}{
		{slurmEngines, "queue", "engines", "SlurmEngineSetLauncher", "f.py:3"},
		{slurmController, "queue", "slurm", "SlurmLauncher", "f.py:2"},
		{slurmController, "account", "ACCT", "SlurmLauncher", "f.py:4"},
		{slurmEngines, "stop_timeout", int64(30), "BaseLauncher", "f.py:5"},
		{slurmEngines, "submit_command", []any{"sbatch", "--parsable"}, "SlurmEngineSetLauncher", "f.py:7"},
		{slurmController, "submit_command", []any{"sbatch"}, "BatchSystemLauncher", "f.py:6"},
		{cluster, "n", int64(4), "Cluster", "f.py:9"}, // aliases: the latest assignment wins
	}
	for _, c := range cases {
		a, ok, err := files.Lookup(c.chain, c.trait)
		if err != nil || !ok || !reflect.DeepEqual(a.Value, c.want) || a.Class != c.class || a.Source.String() != c.where {
			t.Errorf("%v.%s = %#v on %s from %s (%v, %v); want %#v on %s from %s",
				c.chain[0], c.trait, a.Value, a.Class, a.Source, ok, err, c.want, c.class, c.where)
		}
	}
	if _, ok, _ := files.Lookup(slurmEngines, "qos"); ok {
		t.Error("qos found")
	}
	// A command-line alias beats the file's name for the same setting.
	merged, err := Merge(files, FromTraits([]Trait{{"IPClusterEngines", "n", "8"}}))
	if err != nil {
		t.Fatal(err)
	}
	if a, _, _ := merged.Lookup(cluster, "n"); a.Value != int64(8) || a.Class != "IPClusterEngines" {
		t.Errorf("alias from the command line: %+v", a)
	}
	// As in traitlets, a more specific class wins over a later layer on a base class.
	merged, _ = Merge(files, FromTraits([]Trait{{"SlurmLauncher", "queue", "cli"}}))
	if a, _, _ := merged.Lookup(slurmEngines, "queue"); a.Value != "engines" {
		t.Errorf("specific class vs later base: %+v", a)
	}
	// An append on a subclass extends a list given as text on the command line.
	cli := FromTraits([]Trait{{"BatchSystemLauncher", "submit_command", "qsub"}})
	lazy := mustPy(t, "l.py", "c.SlurmEngineSetLauncher.submit_command.append('-V')\n")
	merged, _ = Merge(lazy, cli)
	if a, _, err := merged.Lookup(slurmEngines, "submit_command"); err != nil || !reflect.DeepEqual(a.Value, []any{"qsub", "-V"}) {
		t.Errorf("append onto command-line text: %+v %v", a, err)
	}
	if got := slurmEngines.Classes(); !reflect.DeepEqual(got, []string{"SlurmEngineSetLauncher", "SlurmLauncher", "BatchSystemLauncher", "BaseLauncher"}) {
		t.Errorf("Classes %v", got)
	}
}
