package main

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"ipcluster/cluster"
	"ipcluster/profiles"
)

// The flags for Cluster settings say what the declarations say: their help, trait and
// default are those of cluster.ClusterSettings.
func TestClusterFlagsComeFromTheirDeclarations(t *testing.T) {
	specs, err := profiles.Describe(&cluster.ClusterSettings{})
	if err != nil {
		t.Fatal(err)
	}
	help := map[string]string{}
	for _, sp := range specs {
		help["Cluster."+sp.Name] = sp.Help
	}
	flags := map[string]*cli.StringFlag{}
	for _, f := range startFlags() {
		if sf, ok := f.(*cli.StringFlag); ok {
			flags[sf.Name] = sf
		}
	}
	for _, a := range clusterAliases {
		f, ok := flags[a.Name]
		if !ok {
			t.Errorf("ipcluster start has no --%s", a.Name)
			continue
		}
		if h, ok := help[a.Trait]; ok && !strings.HasPrefix(f.Usage, h+" (c."+a.Trait+")") {
			t.Errorf("--%s help %q, want the declared %q", a.Name, f.Usage, h)
		}
		if f.Usage == "" || strings.HasPrefix(f.Usage, " (") {
			t.Errorf("--%s has no help (is %s declared?)", a.Name, a.Trait)
		}
	}
	for name, want := range map[string]string{"n": "4", "timeout": "60", "engines": "local", "engine-kind": "auto"} {
		if got := flags[name].DefaultText; got != want {
			t.Errorf("--%s shows default %q, want %q", name, got, want)
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
