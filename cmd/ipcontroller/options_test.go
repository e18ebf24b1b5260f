package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipcluster/profiles"
)

func parse(t *testing.T, argv ...string) (*profiles.Args, error) {
	t.Helper()
	return profiles.ParseArgs(argv, options)
}

func TestIPClusterStyleCommandLines(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("IPP_SESSION_KEY", "")
	// what ipcluster 7.x passes, with traits and the flags users add
	args, err := parse(t, "--profile-dir", dir, "--cluster-id", "", "--log-level=10", "--ping=250",
		"--HeartMonitor.max_heartmonitor_misses=3", "--TaskScheduler.hwm=0", "--IPController.ip=127.0.0.2",
		"--ports=10101-10103,10110", "--reuse", "--Foo.bar=1")
	if err != nil {
		t.Fatal(err)
	}
	cfg, closeLog, err := configure(args)
	if err != nil {
		t.Fatal(err)
	}
	defer closeLog()
	if cfg.ProfileDir != dir || cfg.ClusterID != "" || cfg.Ping != 250*time.Millisecond || cfg.MaxMisses != 3 {
		t.Errorf("config %+v", cfg)
	}
	if !cfg.HWMSet || cfg.HWM != 0 || cfg.IP != "127.0.0.2" || !cfg.Reuse {
		t.Errorf("hwm/ip/reuse: %+v", cfg)
	}
	if got := cfg.Ports; len(got) != 4 || got[0] != 10101 || got[3] != 10110 {
		t.Errorf("ports %v", got)
	}
}

func TestEnvironmentAndPrecedence(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("IPP_PROFILE_DIR", dir)
	t.Setenv("IPP_CLUSTER_ID", "envid")
	t.Setenv("IPP_SESSION_KEY", "secret-key")
	args, _ := parse(t)
	cfg, _, err := configure(args)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ProfileDir != dir || cfg.ClusterID != "envid" || cfg.Key != "secret-key" {
		t.Errorf("environment not applied: %+v", cfg)
	}
	args, _ = parse(t, "--cluster-id=", "--ipython-dir", dir, "--profile", "p")
	cfg, _, _ = configure(args)
	if cfg.ClusterID != "" {
		t.Errorf("an explicit empty --cluster-id must win over IPP_CLUSTER_ID, got %q", cfg.ClusterID)
	}
	if cfg.ProfileDir != filepath.Join(dir, "profile_p") {
		t.Errorf("--profile must win over IPP_PROFILE_DIR: %s", cfg.ProfileDir)
	}
}

func TestBadValuesAreClearErrors(t *testing.T) {
	for arg, want := range map[string]string{
		"--ping=soon": "--ping", "--hwm=-1": "--hwm", "--ports=a-b": "--ports", "--log-level=LOUD": "--log-level",
		"--sqlitedb": "--dictdb", "--pnig=3": "did you mean --ping",
	} {
		args, err := parse(t, arg)
		if err == nil {
			_, _, err = configure(args)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v does not say %q", arg, err, want)
		}
	}
}

func TestUnknownTraitsWarn(t *testing.T) {
	args, _ := parse(t, "--Foo.bar=1", "--HubFactory.ip=127.0.0.3")
	var warnings []string
	c, _, _ := configure(&profiles.Args{})
	for _, tr := range args.Traits {
		if w := applyTrait(&c, tr); w != "" {
			warnings = append(warnings, w)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "Foo.bar ignored") {
		t.Errorf("warnings %v", warnings)
	}
	if c.IP != "127.0.0.3" {
		t.Errorf("deprecated HubFactory.ip not applied: %q", c.IP)
	}
}

func TestProfileConfigIsReadAndFlagsWin(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("IPP_SESSION_KEY", "")
	conf := "c = get_config()\nc.HeartMonitor.period = 500\nc.TaskScheduler.hwm = 4\nc.TaskScheduler.scheme_name = 'lru'\n"
	if err := os.WriteFile(filepath.Join(dir, "ipcontroller_config.py"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	args, _ := parse(t, "--profile-dir", dir, "--hwm=2")
	cfg, _, err := configure(args)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ping != 500*time.Millisecond || cfg.Scheme != "lru" || cfg.HWM != 2 {
		t.Errorf("file values or flag precedence wrong: ping %v scheme %q hwm %d", cfg.Ping, cfg.Scheme, cfg.HWM)
	}
	os.WriteFile(filepath.Join(dir, "ipcontroller_config.py"), []byte("import os\nc.IPController.location = login_node\n"), 0o644)
	args, _ = parse(t, "--profile-dir", dir)
	if _, _, err := configure(args); err == nil || !strings.Contains(err.Error(), "ipcontroller_config.py:2: NameError: name 'login_node' is not defined") {
		t.Errorf("bad config file: %v", err)
	}
}
