package launchers

import (
	"reflect"
	"strings"
	"testing"

	"ipcluster/traitconfig"
)

type cfgSettings struct{ cfg *traitconfig.Config }

func (s cfgSettings) Decode(classes []string, into any) error {
	return s.cfg.Decode(traitconfig.ChainOf(classes...), into)
}

func sshFromConfig(t *testing.T, src string) (*sshLauncher, error) {
	t.Helper()
	cfg, err := traitconfig.ParsePython("ipcluster_config.py", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	l, err := sshEntries()[0].New(cfgSettings{cfg})
	if err != nil {
		return nil, err
	}
	return l.(*sshLauncher), nil
}

func TestSSHEnginesDictForms(t *testing.T) {
	l, err := sshFromConfig(t, `c.SSHEngineSetLauncher.engines = {'b': 2, 'user@a:2200': (1, ['--x']), 'c': {'n': 3, 'engine_args': ['--debug'], 'engine_cmd': ['/opt/ipengine'], 'remote_profile_dir': 'p'}}
c.SSHLauncher.remote_profile_dir = 'ipp/profile_default'
c.SSHLauncher.ssh_args = ['-F', '/etc/x', '-o', 'StrictHostKeyChecking=accept-new', '-i', 'k']`)
	if err != nil {
		t.Fatal(err)
	}
	o := l.opts[Engines]
	if o.Engines.Total() != 6 || !reflect.DeepEqual(o.Engines.Hosts(), []string{"b", "c", "user@a:2200"}) {
		t.Errorf("engines %+v", o.Engines)
	}
	c, err := o.connOptions()
	if err != nil || c.ConfigFile != "/etc/x" || !c.AcceptNewHostKeys || !reflect.DeepEqual(c.IdentityFiles, []string{"k"}) {
		t.Errorf("ssh_args -> %+v %v", c, err)
	}
	req := Request{Role: Engines, N: 4, ProfileDir: "/home/me/.ipython/profile_default", ClusterID: "x",
		Command: []string{"/bin/ipengine", "--profile-dir", "/home/me/.ipython/profile_default", "--cluster-id", "x"},
		Env:     map[string]string{"IPP_PROFILE_DIR": "/home/me/.ipython/profile_default"}}
	plans, err := l.plan(req, o)
	if err != nil {
		t.Fatal(err)
	}
	// n=4 caps the dict (6) in sorted host order: b gets 2, c gets 2, user@a none
	if len(plans) != 2 || plans[0].host != "b" || plans[0].n != 2 || plans[1].host != "c" || plans[1].n != 2 {
		t.Fatalf("plans %+v", plans)
	}
	if got := strings.Join(plans[1].argv, " "); got != "/opt/ipengine --profile-dir p --cluster-id x --debug" {
		t.Errorf("per-host command %q", got)
	}
	if got := strings.Join(plans[0].argv, " "); got != "/bin/ipengine --profile-dir ipp/profile_default --cluster-id x" || plans[0].env["IPP_PROFILE_DIR"] != "ipp/profile_default" {
		t.Errorf("command %q env %v", got, plans[0].env)
	}
}

func TestSSHConfigErrorsComeEarly(t *testing.T) {
	for src, want := range map[string]string{
		`c.SSHEngineSetLauncher.engines = {'a': 'two'}`:    "engines['a']: must be n",
		`c.SSHEngineSetLauncher.engines = {'a': {'m': 1}}`: "needs 'n'",
		`c.SSHLauncher.ssh_args = ['-p', '2222']`:          "-p is not understood here",
		`c.SSHLauncher.to_send = [('a',)]`:                 "(source, destination) pair",
	} {
		if _, err := sshFromConfig(t, src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", src, err, want)
		}
	}
}
