package traitconfig

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

type batchOpts struct {
	Queue         string         `config:"queue" help:"queue (partition) to submit to"`
	SubmitCommand []string       `config:"submit_command" help:"submit command"`
	Namespace     map[string]any `config:"namespace" help:"extra template variables"`
	StopTimeout   time.Duration  `config:"stop_timeout" help:"how long stop waits"`
}

type hostOpts struct {
	N    int      `config:"n"`
	Args []string `config:"engine_args"`
}

type slurmOpts struct {
	batchOpts
	Account   string            `config:"account" help:"account to charge"`
	Timelimit string            `config:"timelimit"`
	Cores     uint              `config:"cores"`
	Delay     float64           `config:"delay"`
	Period    time.Duration     `config:"period" unit:"ms"`
	Debug     bool              `config:"debug"`
	Memory    *string           `config:"memory"`
	Env       map[string]string `config:"environment"`
	Host      hostOpts          `config:"host"`
	Extra     any               `config:"extra"`
	Ignored   string
	internal  int
}

func defaultSlurm() slurmOpts {
	return slurmOpts{
		batchOpts: batchOpts{SubmitCommand: []string{"sbatch"}, StopTimeout: 60 * time.Second},
		Delay:     0.1, Period: 3 * time.Second, Host: hostOpts{N: 1, Args: []string{"--x"}},
	}
}

var slurmChain = ChainOf("SlurmEngineSetLauncher", "SlurmLauncher", "BatchSystemLauncher", "BaseLauncher")

func TestDecode(t *testing.T) {
	cfg := mustPy(t, "ipcluster_config.py", `c.SlurmLauncher.queue = 'short'
c.SlurmEngineSetLauncher.account = 'ACCT'
c.SlurmEngineSetLauncher.timelimit = '01:00:00'
c.BatchSystemLauncher.submit_command.append('--parsable')
c.SlurmLauncher.namespace = {'walltime': '1:00:00', 'nodes': 2}
c.BaseLauncher.stop_timeout = 2.5
c.SlurmLauncher.cores = 8
c.SlurmLauncher.delay = 1
c.SlurmLauncher.period = 250
c.SlurmLauncher.debug = True
c.SlurmLauncher.memory = '4G'
c.SlurmLauncher.environment = {'OMP_NUM_THREADS': '1'}
c.SlurmLauncher.host = {'n': 3}
c.SlurmLauncher.extra = ('a', 1)
`)
	got := defaultSlurm()
	if err := cfg.Decode(slurmChain, &got); err != nil {
		t.Fatal(err)
	}
	mem := "4G"
	want := slurmOpts{
		batchOpts: batchOpts{Queue: "short", SubmitCommand: []string{"sbatch", "--parsable"},
			Namespace: map[string]any{"walltime": "1:00:00", "nodes": int64(2)}, StopTimeout: 2500 * time.Millisecond},
		Account: "ACCT", Timelimit: "01:00:00", Cores: 8, Delay: 1, Period: 250 * time.Millisecond, Debug: true,
		Memory: &mem, Env: map[string]string{"OMP_NUM_THREADS": "1"}, Host: hostOpts{N: 3, Args: []string{"--x"}},
		Extra: []any{"a", int64(1)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
	}
	// Nothing set: the defaults stay.
	empty, def := &Config{}, defaultSlurm()
	if err := empty.Decode(slurmChain, &def); err != nil || !reflect.DeepEqual(def, defaultSlurm()) {
		t.Errorf("empty config changed defaults: %+v %v", def, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	cfg := mustPy(t, "ipcluster_config.py", `c = get_config()
c.SlurmEngineSetLauncher.account = 3
c.SlurmLauncher.cores = -1
c.SlurmLauncher.delay = 'soon'
c.SlurmLauncher.debug = 1
c.SlurmLauncher.submit_command = ['sbatch', 2]
c.SlurmLauncher.namespace = ['x']
c.SlurmLauncher.environment = {'A': 1}
c.SlurmLauncher.host = {'n': 2, 'engine_arg': []}
c.SlurmLauncher.period = 'later'
c.SlurmLauncher.stop_timeout = [1]
c.SlurmLauncher.queue.append('x')
c.SlurmLauncher.extra = None
`)
	got := defaultSlurm()
	err := cfg.Decode(slurmChain, &got)
	want := []string{
		"ipcluster_config.py:2: c.SlurmEngineSetLauncher.account must be a string, got 3",
		"ipcluster_config.py:3: c.SlurmLauncher.cores must be an integer of 0 or more, got -1",
		"ipcluster_config.py:4: c.SlurmLauncher.delay must be a number, got 'soon'",
		"ipcluster_config.py:5: c.SlurmLauncher.debug must be True or False, got 1",
		"ipcluster_config.py:6: c.SlurmLauncher.submit_command[1] must be a string, got 2",
		"ipcluster_config.py:7: c.SlurmLauncher.namespace must be a dict, got ['x']",
		"ipcluster_config.py:8: c.SlurmLauncher.environment['A'] must be a string, got 1",
		"ipcluster_config.py:9: c.SlurmLauncher.host has no key 'engine_arg'; did you mean 'engine_args'?",
		"ipcluster_config.py:10: c.SlurmLauncher.period must be a number of milliseconds or a duration such as '90s' or '1:30:00', got 'later'",
		"ipcluster_config.py:11: c.SlurmLauncher.stop_timeout must be a number of seconds, got [1]",
		"ipcluster_config.py:12: c.SlurmLauncher.queue: cannot extend '', a str (not a list)",
	}
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	sortStrings(lines)
	sortStrings(want)
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.Source.Name != "ipcluster_config.py" {
		t.Errorf("not a *Error: %T", err)
	}
	// Bad values leave the defaults; good ones are still applied.
	want0 := defaultSlurm()
	if !reflect.DeepEqual(got.SubmitCommand, want0.SubmitCommand) || got.Cores != 0 || got.Extra != nil || got.Host.N != 1 {
		t.Errorf("bad values changed fields: %+v", got)
	}
	if err := cfg.Decode(slurmChain, got); err == nil || !strings.Contains(err.Error(), "need a pointer to a struct") {
		t.Errorf("non-pointer: %v", err)
	}
	type dup struct {
		batchOpts
		Q string `config:"queue"`
	}
	if err := cfg.Decode(slurmChain, &dup{}); err == nil || !strings.Contains(err.Error(), `trait "queue" is declared twice`) {
		t.Errorf("duplicate trait: %v", err)
	}
}

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

// Values from the command line are read by the trait's type, as traitlets does.
func TestDecodeText(t *testing.T) {
	cli := FromTraits([]Trait{
		{"SlurmLauncher", "account", "007"},
		{"SlurmLauncher", "timelimit", "1:00:00"},
		{"SlurmLauncher", "cores", "16"},
		{"SlurmLauncher", "delay", "2"},
		{"SlurmLauncher", "debug", "true"},
		{"SlurmLauncher", "memory", "512"},
		{"SlurmLauncher", "period", "1s"},
		{"SlurmLauncher", "stop_timeout", "1:30"},
		{"SlurmLauncher", "submit_command", "['sbatch', '--test-only']"},
		{"SlurmLauncher", "environment", "{'A': 'x'}"},
		{"SlurmLauncher", "extra", "plain text"},
	})
	got := defaultSlurm()
	if err := cli.Decode(slurmChain, &got); err != nil {
		t.Fatal(err)
	}
	if got.Account != "007" || got.Timelimit != "1:00:00" || got.Cores != 16 || got.Delay != 2 || !got.Debug ||
		got.Memory == nil || *got.Memory != "512" || got.Period != time.Second || got.StopTimeout != 90*time.Second ||
		!reflect.DeepEqual(got.SubmitCommand, []string{"sbatch", "--test-only"}) ||
		!reflect.DeepEqual(got.Env, map[string]string{"A": "x"}) || got.Extra != "plain text" {
		t.Errorf("decoded %+v", got)
	}
	repeated := FromTraits([]Trait{{"SlurmLauncher", "submit_command", "sbatch"}, {"SlurmLauncher", "submit_command", "--hold"}})
	if err := repeated.Decode(slurmChain, &got); err != nil || !reflect.DeepEqual(got.SubmitCommand, []string{"sbatch", "--hold"}) {
		t.Errorf("repeated list trait: %v %v", got.SubmitCommand, err)
	}
	bad := FromTraits([]Trait{{"SlurmLauncher", "cores", "four"}, {"SlurmLauncher", "debug", "maybe"},
		{"SlurmLauncher", "account", "a"}, {"SlurmLauncher", "account", "b"}})
	err := bad.Decode(slurmChain, &got)
	for _, want := range []string{
		"--SlurmLauncher.cores=four: c.SlurmLauncher.cores must be an integer of 0 or more, got 'four'",
		"--SlurmLauncher.debug=maybe: c.SlurmLauncher.debug must be True or False, got 'maybe'",
		"--SlurmLauncher.account=b: c.SlurmLauncher.account takes one value, got 2: ['a', 'b']",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in\n%v", want, err)
		}
	}
}

func TestDescribe(t *testing.T) {
	specs, err := Describe(defaultSlurm())
	if err != nil {
		t.Fatal(err)
	}
	for i := range specs {
		specs[i].Tag = "" // the whole tag, checked in TestDefaultAndMinTags
	}
	want := []TraitSpec{
		{"queue", "str", "", "queue (partition) to submit to", ""},
		{"submit_command", "list of str", []any{"sbatch"}, "submit command", ""},
		{"namespace", "dict", map[string]any{}, "extra template variables", ""},
		{"stop_timeout", "seconds", int64(60), "how long stop waits", ""},
		{"account", "str", "", "account to charge", ""},
		{"timelimit", "str", "", "", ""},
		{"cores", "int", int64(0), "", ""},
		{"delay", "float", 0.1, "", ""},
		{"period", "milliseconds", int64(3000), "", ""},
		{"debug", "bool", false, "", ""},
		{"memory", "str or None", nil, "", ""},
		{"environment", "dict of str", map[string]any{}, "", ""},
		{"host", "dict", map[string]any{"n": int64(1), "engine_args": []any{"--x"}}, "", ""},
		{"extra", "any", nil, "", ""},
	}
	if !reflect.DeepEqual(specs, want) {
		t.Errorf("got\n%#v\nwant\n%#v", specs, want)
	}
	// What `ipcluster profile create` would write for one option.
	s := specs[1]
	if line := "# c.SlurmLauncher." + s.Name + " = " + Literal(s.Default); line != "# c.SlurmLauncher.submit_command = ['sbatch']" {
		t.Errorf("config line %s", line)
	}
	if _, err := Describe(3); err == nil {
		t.Error("Describe(3) accepted")
	}
	type badUnit struct {
		D time.Duration `config:"d" unit:"h"`
	}
	if _, err := Describe(badUnit{}); err == nil || !strings.Contains(err.Error(), `unknown unit "h"`) {
		t.Errorf("bad unit: %v", err)
	}
}

func TestCheckWarnings(t *testing.T) {
	known, err := KnownTraits(map[string]any{
		"SlurmEngineSetLauncher": slurmOpts{}, "SlurmLauncher": slurmOpts{}, "BatchSystemLauncher": batchOpts{},
		"Cluster": struct {
			N int `config:"n"`
		}{},
	})
	if err != nil {
		t.Fatal(err)
	}
	known["Application"] = nil // any trait: read elsewhere
	cfg := mustPy(t, "ipcluster_config.py", `c.SlurmEngineSetLauncher.acount = 'x'
c.SlurmEngineSetLaucher.account = 'x'
c.SlurmEngineSetLauncher.account = 'ok'
c.BatchSystemLauncher.zzz = 1
c.Application.log_level = 10
c.HTCondorLauncher.queue = 'q'
`)
	var got []string
	for _, w := range cfg.Check(known) {
		got = append(got, w.String())
	}
	want := []string{
		"ipcluster_config.py:4: c.BatchSystemLauncher.zzz: unknown trait (BatchSystemLauncher has namespace, queue, stop_timeout, submit_command)",
		"ipcluster_config.py:6: c.HTCondorLauncher.queue: unknown class",
		"ipcluster_config.py:2: c.SlurmEngineSetLaucher.account: unknown class; did you mean SlurmEngineSetLauncher?",
		"ipcluster_config.py:1: c.SlurmEngineSetLauncher.acount: unknown trait; did you mean account?",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// sshHost reads ipyparallel's three forms of an SSH engines entry.
type sshHost struct {
	N    int      `config:"n" json:"n"`
	Args []string `config:"engine_args" json:"engine_args,omitempty"`
}

func (h *sshHost) DecodeConfig(v any) error {
	type fields sshHost // the same fields without this method
	switch v := v.(type) {
	case int64:
		h.N = int(v)
		return nil
	case []any:
		if len(v) != 2 {
			return errors.New("must be n, (n, args) or {'n': n, 'engine_args': args}")
		}
		if err := DecodeValue(v[0], &h.N); err != nil {
			return err
		}
		return DecodeValue(v[1], &h.Args)
	case map[string]any:
		return DecodeValue(v, (*fields)(h))
	}
	return errors.New("must be n, (n, args) or {'n': n, 'engine_args': args}")
}

func TestDecoderInterface(t *testing.T) {
	type sshOpts struct {
		Engines map[string]sshHost `config:"engines" type:"dict of host to n, (n, args) or {'n': n, 'engine_args': args}"`
	}
	cfg := mustPy(t, "c.py", `c.SSHEngineSetLauncher.engines = {'a': 2, 'b': (1, ['--x']), 'c': {'n': 3, 'engine_args': ['--debug']}}`)
	var got sshOpts
	if err := cfg.Decode(ChainOf("SSHEngineSetLauncher"), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]sshHost{"a": {N: 2}, "b": {N: 1, Args: []string{"--x"}}, "c": {N: 3, Args: []string{"--debug"}}}
	if !reflect.DeepEqual(got.Engines, want) {
		t.Errorf("engines %+v", got.Engines)
	}
	bad := mustPy(t, "c.py", "\nc.SSHEngineSetLauncher.engines = {'a': 'two', 'b': (1, 2), 'c': {'m': 1}}")
	err := bad.Decode(ChainOf("SSHEngineSetLauncher"), &got)
	if err == nil || err.Error() != "c.py:2: c.SSHEngineSetLauncher.engines['a']: must be n, (n, args) or {'n': n, 'engine_args': args}" {
		t.Errorf("bad entry: %v", err)
	}
	bad = mustPy(t, "c.py", "c.SSHEngineSetLauncher.engines = {'b': (1, 2)}")
	if err := bad.Decode(ChainOf("SSHEngineSetLauncher"), &got); err == nil || err.Error() != "c.py:1: c.SSHEngineSetLauncher.engines['b']: value must be a list, got 2" {
		t.Errorf("bad args: %v", err)
	}
	specs, _ := Describe(sshOpts{})
	if specs[0].Type != "dict of host to n, (n, args) or {'n': n, 'engine_args': args}" {
		t.Errorf("type %q", specs[0].Type)
	}
}
