package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipcluster/launchers"
	"ipcluster/pyfind"
)

func TestChooseEngine(t *testing.T) {
	t.Setenv(pyfind.EnvVar, "none") // a machine without Python
	pyfind.Reset()
	t.Cleanup(pyfind.Reset)
	cases := []struct {
		kind    string
		cmd     []string
		want    string // String() of the choice, or the error's start
		wantErr bool
	}{
		{"", nil, "Go engine (auto: no Python with ipyparallel: IPCLUSTER_PYTHON=none)", false},
		{"auto", nil, "Go engine (auto: no Python with ipyparallel: IPCLUSTER_PYTHON=none)", false},
		{"go", nil, "Go engine (engine_kind go)", false},
		{"python", nil, "engine_kind python: no suitable Python found", true},
		{"Python", nil, `engine kind "Python": choose auto, go or python`, true},
		{"python", []string{"/opt/e"}, "engine_cmd /opt/e (configured engine_cmd, which overrides engine_kind python)", false},
		{"", []string{"/usr/bin/python3", "-m", "ipyparallel.engine"}, "engine_cmd /usr/bin/python3 -m ipyparallel.engine (configured engine_cmd)", false},
	}
	for _, c := range cases {
		var o Options
		o.EngineKind, o.EngineCmd = c.kind, c.cmd
		got, err := o.ChooseEngine()
		if c.wantErr {
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("kind %q cmd %v: error %v, want %q...", c.kind, c.cmd, err, c.want)
			}
			continue
		}
		if err != nil || got.String() != c.want {
			t.Errorf("kind %q cmd %v: %q, %v; want %q", c.kind, c.cmd, got, err, c.want)
		}
		if len(c.cmd) == 0 && (len(o.EngineCmd) != 1 || filepath.Base(o.EngineCmd[0]) != "ipengine") {
			t.Errorf("kind %q: engine command %v, want the Go ipengine", c.kind, o.EngineCmd)
		}
	}
}

func TestChooseEnginePythonFromEnvironment(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Fatal("/usr/bin/python3 missing: make deps installs it")
	}
	t.Setenv(pyfind.EnvVar, "/usr/bin/python3")
	pyfind.Reset()
	t.Cleanup(pyfind.Reset)
	o := Options{}
	got, err := o.ChooseEngine()
	if err != nil || got.Kind != EnginePython || strings.Join(o.EngineCmd, " ") != "/usr/bin/python3 -m ipyparallel.engine" ||
		!strings.HasPrefix(got.String(), "Python ipyparallel engine (auto: /usr/bin/python3 imports ipyparallel ") {
		t.Fatalf("auto with ipyparallel installed: %v %v, command %v", got, err, o.EngineCmd)
	}
}

func TestEngineKindOfAFile(t *testing.T) {
	f := &File{Engines: EngineSets{Sets: map[string]*launchers.Handle{"a": {}, "b": {}}, Kinds: map[string]string{"a": "go", "b": "go"}}}
	if k := f.engineKind(); k != "go" {
		t.Errorf("two Go sets: %q", k)
	}
	f.Engines.Kinds["b"] = "python"
	if k := f.engineKind(); k != "" {
		t.Errorf("mixed sets: %q", k)
	}
	delete(f.Engines.Kinds, "b")
	if k := f.engineKind(); k != "" {
		t.Errorf("a set of unknown kind: %q", k)
	}
}
