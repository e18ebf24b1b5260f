package engine_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipcluster/profiles"
	"ipcluster/runtime/engine"
)

// configure parses argv as ipengine does and configures with the environment env.
func configure(t *testing.T, env map[string]string, argv ...string) (*engine.Setup, string, error) {
	t.Helper()
	args, err := profiles.ParseArgs(argv, engine.Options())
	if err != nil {
		return nil, "", err
	}
	var log bytes.Buffer
	s, closeLog, err := engine.Configure(args, func(k string) string { return env[k] }, &log)
	closeLog()
	return s, log.String(), err
}

func TestConfigureFlagsAndEnvironment(t *testing.T) {
	e := map[string]string{"IPP_PROFILE_DIR": "/env/profile", "IPP_CLUSTER_ID": "envid", "IPP_CONNECTION_INFO": "{}"}
	// ipcluster 7 style: flags beat the environment; an empty cluster id is a value
	s, _, err := configure(t, e, "--profile-dir", "/flag/profile", "--cluster-id", "", "--log-level=20")
	if err != nil {
		t.Fatal(err)
	}
	if s.Source.ProfileDir != "/flag/profile" || s.Source.ClusterID != "" || s.Config.ClusterID != "" || s.Source.ConnectionInfo != "{}" {
		t.Errorf("flags: %+v", s.Source)
	}
	// ipcluster 8 style: the environment only
	s, _, _ = configure(t, e)
	if s.Source.ProfileDir != "/env/profile" || s.Source.ClusterID != "envid" || !strings.Contains(s.Source.Origin, "IPP_PROFILE_DIR") ||
		!strings.Contains(s.Source.Origin, "IPP_CLUSTER_ID") {
		t.Errorf("env: %+v", s.Source)
	}
	// traits, aliases and the shell engine's own options
	s, log, err := configure(t, nil, "--IPEngine.url_file=/f.json", "--IPEngine.wait_for_url_file=2.5", "--IPEngine.id=4",
		"--IPEngine.max_heartbeat_misses=7", "--shell=/bin/bash", "--timeout=1", "--kill-timeout=0.5", "--location=head",
		"--ident=u-1", "-c", "echo hi", "--s=/x.sh", "--Foo.bar=1")
	if err != nil {
		t.Fatal(err)
	}
	c := s.Config
	if s.Source.File != "/f.json" || s.Source.Wait != 2500*time.Millisecond || c.ID == nil || *c.ID != 4 ||
		c.MaxHeartbeatMisses != 7 || strings.Join(c.Shell, " ") != "/bin/bash -c" || c.RegistrationTimeout != time.Second ||
		c.KillGrace != 500*time.Millisecond || c.Location != "head" || c.UUID != "u-1" || c.StartupCommand != "echo hi" ||
		c.StartupScript != "/x.sh" {
		t.Errorf("traits: %+v %+v", s.Source, c)
	}
	if !strings.Contains(log, "c.Foo.bar: unknown class") {
		t.Errorf("no warning for --Foo.bar: %s", log)
	}
	s, _, _ = configure(t, nil, "--shell", "bash -lc")
	if strings.Join(s.Config.Shell, "|") != "bash|-lc" {
		t.Errorf("shell prefix: %q", s.Config.Shell)
	}
}

func TestEngineConfigFileAndPrecedence(t *testing.T) {
	dir, work := t.TempDir(), t.TempDir()
	conf := "c = get_config()\n" +
		"c.IPEngine.work_dir = '" + work + "'\n" +
		"c.IPEngine.startup_command = 'touch started'\n" +
		"c.IPEngine.startup_script = '/opt/setup.sh'\n" +
		"c.EngineFactory.timeout = 4.5\n" +
		"c.EngineFactory.max_heartbeat_misses = 0\n" +
		"c.IPEngine.location = 'filehost'\n" +
		"c.IPEngine.cluster_id = 'fromfile'\n" +
		"c.ShellEngine.shell = ['/bin/bash', '-c']\n" +
		"c.Application.log_level = 'WARN'\n"
	os.WriteFile(filepath.Join(dir, "ipengine_config.py"), []byte(conf), 0o644)
	os.WriteFile(filepath.Join(dir, "ipengine_config.json"), []byte(`{"IPEngine": {"location": "jsonhost"}}`), 0o644)
	s, log, err := configure(t, map[string]string{"IPP_PROFILE_DIR": dir}, "--timeout=6")
	if err != nil {
		t.Fatal(err)
	}
	c := s.Config
	if c.WorkDir != work || c.StartupCommand != "touch started" || c.StartupScript != "/opt/setup.sh" ||
		c.RegistrationTimeout != 6*time.Second || c.Location != "jsonhost" || c.ClusterID != "fromfile" ||
		s.Source.ClusterID != "fromfile" || strings.Join(c.Shell, " ") != "/bin/bash -c" || c.MaxHeartbeatMisses < 1<<30 {
		t.Errorf("file values or precedence wrong: %+v", c)
	}
	if !strings.Contains(log, "c.EngineFactory.timeout is an old name; use c.IPEngine.timeout") {
		t.Errorf("no warning for the old class name: %s", log)
	}
	// the environment beats files, flags beat the environment
	s, _, _ = configure(t, map[string]string{"IPP_PROFILE_DIR": dir, "IPP_CLUSTER_ID": "env"})
	if s.Config.ClusterID != "env" {
		t.Errorf("IPP_CLUSTER_ID must win over the file: %q", s.Config.ClusterID)
	}
	s, _, _ = configure(t, map[string]string{"IPP_PROFILE_DIR": dir, "IPP_CLUSTER_ID": "env"}, "--cluster-id=flag", "--work-dir", t.TempDir())
	if s.Config.ClusterID != "flag" || s.Config.WorkDir == work {
		t.Errorf("flags must win: %q %q", s.Config.ClusterID, s.Config.WorkDir)
	}
}

func TestUnknownEngineTraitsWarnWithTheClosestName(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ipengine_config.py"), []byte("c.IPEngine.startup_comand = 'x'\nc.IPEngine.wrok_dir = '/tmp'\n"), 0o644)
	_, log, err := configure(t, nil, "--profile-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ipengine_config.py:1: c.IPEngine.startup_comand: unknown trait; did you mean startup_command?",
		"ipengine_config.py:2: c.IPEngine.wrok_dir: unknown trait; did you mean work_dir?"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestMPIFormsTakeTheRankFromTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	rank := map[string]string{"OMPI_COMM_WORLD_RANK": "3"}
	for _, argv := range [][]string{{"--mpi"}, {"--mpi=mpi4py"}, {"--IPEngine.use_mpi=True"}, {"--MPI.use=mpi4py"}} {
		s, _, err := configure(t, rank, append([]string{"--profile-dir", dir}, argv...)...)
		if err != nil || s.Config.ID == nil || *s.Config.ID != 3 {
			t.Errorf("%v: %v %+v", argv, err, s)
		}
	}
	os.WriteFile(filepath.Join(dir, "ipengine_config.py"), []byte("c.MPI.use = 'mpi4py'\n"), 0o644)
	if s, _, err := configure(t, rank, "--profile-dir", dir); err != nil || s.Config.ID == nil || *s.Config.ID != 3 {
		t.Errorf("c.MPI.use: %v %+v", err, s)
	}
	if s, _, _ := configure(t, rank, "--profile-dir", dir, "--id=5"); s.Config.ID == nil || *s.Config.ID != 5 {
		t.Errorf("an explicit --id wins over the rank")
	}
	if _, _, err := configure(t, nil, "--profile-dir", dir); err == nil || !strings.Contains(err.Error(), "OMPI_COMM_WORLD_RANK") {
		t.Errorf("MPI asked for outside MPI: %v", err)
	}
}

func TestBadEngineValuesAreClearErrors(t *testing.T) {
	for arg, want := range map[string]string{
		"--id=-1": "--id=-1", "--timeout=soon": "--timeout=soon", "--kill-timeout=0": "--kill-timeout=0",
		"--log-level=LOUD": "--log-level=LOUD", "--work-dir=/no/such/dir": "work_dir", "--profile-dri=x": "did you mean --profile-dir",
	} {
		_, _, err := configure(t, nil, "--profile-dir", t.TempDir(), arg)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v does not say %q", arg, err, want)
		}
	}
}

func TestEngineSampleConfigIsValidAndChangesNothing(t *testing.T) {
	sample := engine.SampleConfig()
	for _, want := range []string{"# c.IPEngine.work_dir = ''", "# c.IPEngine.startup_command = ''", "# c.IPEngine.timeout = 10",
		"# c.MPI.use = ''", "# c.ShellEngine.shell = ['/bin/sh', '-c']"} {
		if !strings.Contains(sample, want) {
			t.Errorf("sample lacks %q:\n%s", want, sample)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ipengine_config.py"), []byte(strings.ReplaceAll(sample, "\n# c.", "\nc.")), 0o644)
	s, log, err := configure(t, nil, "--profile-dir", dir)
	if err != nil || strings.Contains(log, "WARN") {
		t.Fatalf("uncommented sample: %v\n%s", err, log)
	}
	if s.Config.RegistrationTimeout != 10*time.Second || s.Source.Wait != engine.DefaultWait || s.Config.ID != nil {
		t.Errorf("uncommented sample changed settings: %+v %+v", s.Config, s.Source)
	}
}
