package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"ipcluster/cluster"
	"ipcluster/traitconfig"
)

// The flags for config settings are those users know, and say what their declarations
// say: help, c.Class.trait and default.
func TestSettingFlagsComeFromTheirDeclarations(t *testing.T) {
	specs, err := traitconfig.Describe(&cluster.ClusterSettings{})
	if err != nil {
		t.Fatal(err)
	}
	help := map[string]string{}
	for _, sp := range specs {
		help[sp.Name] = sp.Help
	}
	flagsOf := func(flags []cli.Flag) map[string]*cli.StringFlag {
		out := map[string]*cli.StringFlag{}
		for _, f := range flags {
			if sf, ok := f.(*cli.StringFlag); ok {
				out[sf.Name] = sf
			}
		}
		return out
	}
	start, engines := flagsOf(startFlags()), flagsOf(enginesFlags())
	for flag, trait := range map[string]string{"n": "Cluster.n", "engines": "Cluster.engine_launcher_class", "engine-kind": "Cluster.engine_kind",
		"controller": "Cluster.controller_launcher_class", "ip": "Cluster.controller_ip", "location": "Cluster.controller_location",
		"delay": "Cluster.delay", "timeout": "Cluster.engine_timeout", "ssh-host": "BatchSystemLauncher.ssh_host"} {
		f, ok := start[flag]
		if !ok {
			t.Errorf("ipcluster start has no --%s", flag)
			continue
		}
		h, declared := help[strings.TrimPrefix(trait, "Cluster.")]
		if !declared {
			h = ""
		}
		if !strings.HasPrefix(f.Usage, h) || !strings.HasSuffix(f.Usage, " (c."+trait+")") || strings.HasPrefix(f.Usage, " (") {
			t.Errorf("--%s help %q, want the declared %q and (c.%s)", flag, f.Usage, h, trait)
		}
	}
	for name, want := range map[string]string{"n": "4", "timeout": "60", "engines": "local", "engine-kind": "auto"} {
		if got := start[name].DefaultText; got != want {
			t.Errorf("start --%s shows default %q, want %q", name, got, want)
		}
		if got := engines[name].DefaultText; got != want {
			t.Errorf("engines --%s shows default %q, want %q", name, got, want)
		}
	}
	for _, startOnly := range []string{"controller", "ip", "location", "delay", "ssh-host"} {
		if engines[startOnly] != nil {
			t.Errorf("ipcluster engines has --%s", startOnly)
		}
	}
}

// A flag's value is read as the same setting in a config file would be: the same decoding
// (a duration as seconds or 90s) and the same errors, naming the flag.
func TestClusterFlagValuesAreDecodedAsConfig(t *testing.T) {
	e := newEnv(t)
	out := e.mustIPCluster("start", "--dry-run", "--engine-kind=go", "-n", "3", "--timeout=90s", "--delay", "0.5")
	if !strings.Contains(out, "# engines (local launcher): 3 engines") {
		t.Errorf("-n 3 not applied:\n%s", out)
	}
	for flag, want := range map[string]string{
		"--timeout=abc": "--timeout=abc: c.Cluster.engine_timeout must be a number of seconds",
		"--n=x":         "--n=x: c.Cluster.n must be an integer",
		"--delay=soon":  "--delay=soon: c.Cluster.delay must be a number",
	} {
		out, code := e.ipcluster("start", "--dry-run", "--engine-kind=go", flag)
		if code == 0 || !strings.Contains(out, want) {
			t.Errorf("%s gave exit %d, want an error %q:\n%s", flag, code, want, out)
		}
	}
}

// `ipcluster engines` starts IPClusterEngines.n engines, as ipyparallel's does, and
// `ipcluster start` IPClusterStart.n (the subclass's value).
func TestEnginesStartsTheConfiguredNumber(t *testing.T) {
	e := newEnv(t)
	e.writeConfig("c.IPClusterEngines.n = 2\nc.IPClusterStart.n = 1\n")
	out := e.mustIPCluster("start", "--engine-kind=go", "--daemonize")
	if !strings.Contains(out, "engines: 1/1 registered") {
		t.Errorf("start did not use c.IPClusterStart.n = 1:\n%s", out)
	}
	out = e.mustIPCluster("engines", "--engine-kind=go")
	if !strings.Contains(out, ": 2 engines registered") {
		t.Errorf("engines did not use c.IPClusterEngines.n = 2:\n%s", out)
	}
	if got := engineCount(e, ""); got != "[0, 1, 2]" {
		t.Errorf("after start (1) and engines (2): %s", got)
	}
	out = e.mustIPCluster("engines", "--engine-kind=go", "-n", "1")
	if !strings.Contains(out, ": 1 engines registered") {
		t.Errorf("-n 1 did not override the configured n:\n%s", out)
	}
	e.mustIPCluster("stop")
}

// A negative engine count is an error naming n and where it was set, and nothing starts;
// `-n 0` starts the controller alone, as ipyparallel does.
func TestEngineCountZeroAndNegative(t *testing.T) {
	e := newEnv(t)
	clusterFile := filepath.Join(e.dir, "profile_default", "security", "cluster-.json")
	for _, tc := range []struct {
		config string
		args   []string
		want   string
	}{
		{"", []string{"-n", "-3"}, "--n=-3: c.Cluster.n must be 0 or more, got -3"},
		{"c.Cluster.n = -3\n", nil, "ipcluster_config.py:2: c.Cluster.n must be 0 or more, got -3"},
		{"c.IPClusterEngines.n = -1\n", []string{"--Cluster.delay=0"}, "ipcluster_config.py:2: c.Cluster.n must be 0 or more, got -1"},
	} {
		e.writeConfig(tc.config)
		out, code := e.ipcluster(append([]string{"start", "--engine-kind=go", "--daemonize"}, tc.args...)...)
		if code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%q %v: exit %d, want an error %q:\n%s", tc.config, tc.args, code, tc.want, out)
		}
		if _, err := os.Stat(clusterFile); err == nil || len(e.processes()) > 0 {
			t.Errorf("%q %v: something started: %v", tc.config, tc.args, e.processes())
		}
	}
	e.writeConfig("c.Cluster.n = 3\n")
	out := e.mustIPCluster("start", "--engine-kind=go", "-n", "0", "--daemonize")
	if strings.Contains(out, "engines:") {
		t.Errorf("-n 0 started engines:\n%s", out)
	}
	if ids := e.python("import ipyparallel as ipp\nc = ipp.Client()\nprint(c.ids)\nc.close()"); ids != "[]" {
		t.Errorf("-n 0: the controller has engines %s, want none", ids)
	}
	if list := e.mustIPCluster("list"); !strings.Contains(list, "running     0/0") {
		t.Errorf("-n 0: list shows\n%s", list)
	}
	if out, code := e.ipcluster("engines", "-n", "0"); code == 0 || !strings.Contains(out, "no engines to add: n is 0") {
		t.Errorf("engines -n 0: exit %d\n%s", code, out)
	}
	e.mustIPCluster("stop")
}
