package controller

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipcluster/profiles"
)

// configure parses argv as ipcontroller does and configures with the environment env.
func configure(t *testing.T, env map[string]string, argv ...string) (Config, string, error) {
	t.Helper()
	args, err := profiles.ParseArgs(argv, Options())
	if err != nil {
		return Config{}, "", err
	}
	var log bytes.Buffer
	cfg, closeLog, err := Configure(args, func(k string) string { return env[k] }, &log)
	closeLog()
	return cfg, log.String(), err
}

func TestIPClusterStyleCommandLines(t *testing.T) {
	dir := t.TempDir()
	// what ipcluster 7.x passes, with traits and the flags users add
	cfg, log, err := configure(t, nil, "--profile-dir", dir, "--cluster-id", "", "--log-level=10", "--ping=250",
		"--HeartMonitor.max_heartmonitor_misses=3", "--TaskScheduler.hwm=0", "--IPController.ip=127.0.0.2",
		"--ports=10101-10103,10110", "--reuse", "--Foo.bar=1")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ProfileDir != dir || cfg.ClusterID != "" || cfg.Ping != 250*time.Millisecond || cfg.MaxMisses != 3 {
		t.Errorf("config %+v", cfg)
	}
	if !cfg.HWMSet || cfg.HWM != 0 || cfg.IP != "127.0.0.2" || !cfg.Reuse {
		t.Errorf("hwm/ip/reuse: %+v", cfg)
	}
	if got := cfg.Ports; len(got) != 4 || got[0] != 10101 || got[3] != 10110 {
		t.Errorf("ports %v", got)
	}
	if !strings.Contains(log, "c.Foo.bar: unknown class") {
		t.Errorf("no warning about --Foo.bar in %q", log)
	}
}

func TestEveryAliasSetsItsTrait(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte("from-file\n"), 0o600)
	cfg, _, err := configure(t, nil, "--profile-dir", dir, "--ip=*", "--transport=ipc", "--location=head",
		"--port=10100", "--ports=10101,10102", "--ssh=me@gw", "--enginessh=gw2", "--scheme=lru", "--hwm=4",
		"--restore", "--nodb", "--keyfile", key, "--usethreads", "--init", "--secure", "--user=u", "--ident=i",
		"--clean-logs=True", "--log-url=tcp://x:1", "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{IP: "*", Transport: "ipc", Location: "head", SSH: "me@gw", EngineSSH: "gw2", Scheme: "lru", HWM: 4}
	if cfg.IP != want.IP || cfg.Transport != want.Transport || cfg.Location != want.Location || cfg.SSH != want.SSH ||
		cfg.EngineSSH != want.EngineSSH || cfg.Scheme != want.Scheme || cfg.HWM != want.HWM {
		t.Errorf("aliases: %+v", cfg)
	}
	if !cfg.Reuse || !cfg.NoDB || cfg.Key != "from-file" {
		t.Errorf("restore/nodb/keyfile: reuse %v nodb %v key %q", cfg.Reuse, cfg.NoDB, cfg.Key)
	}
	if got := cfg.Ports; len(got) != 3 || got[0] != 10100 || got[2] != 10102 {
		t.Errorf("--port goes first in the pool: %v", got)
	}
	cfg, log, err := configure(t, map[string]string{"IPP_SESSION_KEY": "k"}, "--profile-dir", dir, "--no-secure")
	if err != nil || !cfg.Unsigned || cfg.Key != "" || !strings.Contains(log, "not signed") {
		t.Errorf("--no-secure: %v unsigned %v key %q log %q", err, cfg.Unsigned, cfg.Key, log)
	}
}

func TestEnvironmentAndPrecedence(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"IPP_PROFILE_DIR": dir, "IPP_CLUSTER_ID": "envid", "IPP_SESSION_KEY": "secret-key"}
	cfg, _, err := configure(t, env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ProfileDir != dir || cfg.ClusterID != "envid" || cfg.Key != "secret-key" {
		t.Errorf("environment not applied: %+v", cfg)
	}
	cfg, _, _ = configure(t, env, "--cluster-id=", "--ipython-dir", dir, "--profile", "p")
	if cfg.ClusterID != "" {
		t.Errorf("an explicit empty --cluster-id must win over IPP_CLUSTER_ID, got %q", cfg.ClusterID)
	}
	if cfg.ProfileDir != filepath.Join(dir, "profile_p") {
		t.Errorf("--profile must win over IPP_PROFILE_DIR: %s", cfg.ProfileDir)
	}
	// defaults < files < environment < flags
	conf := "c = get_config()\nc.IPController.cluster_id = 'file'\nc.Session.key = 'filekey'\nc.HeartMonitor.period = 700\nc.TaskScheduler.hwm = 5\n"
	os.WriteFile(filepath.Join(dir, "ipcontroller_config.py"), []byte(conf), 0o644)
	cfg, _, err = configure(t, env, "--hwm=2")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClusterID != "envid" || cfg.Key != "secret-key" || cfg.Ping != 700*time.Millisecond || cfg.HWM != 2 || cfg.MaxMisses != 10 {
		t.Errorf("precedence: id %q key %q ping %v hwm %d misses %d", cfg.ClusterID, cfg.Key, cfg.Ping, cfg.HWM, cfg.MaxMisses)
	}
	cfg, _, _ = configure(t, env, "--cluster-id=flag", "--Session.key=flagkey")
	if cfg.ClusterID != "flag" || cfg.Key != "flagkey" {
		t.Errorf("flags must win over the environment: id %q key %q", cfg.ClusterID, cfg.Key)
	}
}

func TestBadValuesAreClearErrors(t *testing.T) {
	for arg, want := range map[string]string{
		"--ping=soon": "--ping=soon", "--hwm=-1": "--hwm=-1", "--ports=a-b": "--ports=a-b", "--log-level=LOUD": "--log-level",
		"--mongodb": "MongoDB is not supported", "--IPController.db_class=RedisDB": "use DictDB, SQLiteDB or NoDB", "--pnig=3": "did you mean --ping", "--scheme=fastest": "unknown scheme",
		"--IPController.broadcast_scheduler_depth=9": "1 to 6", "--transport=udp": "use tcp or ipc",
		"--IPController.client_transport=inproc": "use tcp or ipc",
	} {
		_, _, err := configure(t, nil, "--profile-dir", t.TempDir(), arg)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v does not say %q", arg, err, want)
		}
	}
}

// ipyparallel's engine_transport and client_transport set the one transport this controller
// binds, engine_transport first, as engine_ip and client_ip do for the address.
func TestEngineAndClientTransportChooseTheTransport(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "tcp"},
		{[]string{"--transport=ipc"}, "ipc"},
		{[]string{"--IPController.client_transport=ipc"}, "ipc"},
		{[]string{"--IPController.engine_transport=ipc", "--IPController.client_transport=tcp"}, "ipc"},
		{[]string{"--transport=ipc", "--IPController.engine_transport=tcp"}, "tcp"},
	} {
		cfg, _, err := configure(t, nil, append([]string{"--profile-dir", t.TempDir()}, c.args...)...)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if cfg.Transport != c.want {
			t.Errorf("%v: transport %q, want %q", c.args, cfg.Transport, c.want)
		}
	}
}

func TestUnknownTraitsWarnWithTheClosestName(t *testing.T) {
	dir := t.TempDir()
	conf := "c = get_config()\nc.HeartMonitor.perod = 500\nc.TaskSchedular.hwm = 3\n"
	os.WriteFile(filepath.Join(dir, "ipcontroller_config.py"), []byte(conf), 0o644)
	_, log, err := configure(t, nil, "--profile-dir", dir, "--IPController.ipp=1.2.3.4")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ipcontroller_config.py:2: c.HeartMonitor.perod: unknown trait; did you mean period?",
		"c.TaskSchedular.hwm: unknown class; did you mean TaskScheduler?", "c.IPController.ipp: unknown trait; did you mean ip?"} {
		if !strings.Contains(log, want) {
			t.Errorf("log does not warn %q:\n%s", want, log)
		}
	}
}

func TestOldClassNamesWork(t *testing.T) {
	dir := t.TempDir()
	conf := "c = get_config()\nc.HubFactory.ip = '127.0.0.3'\nc.IPControllerApp.reuse_files = True\nc.BaseParallelApplication.cluster_id = 'old'\n"
	os.WriteFile(filepath.Join(dir, "ipcontroller_config.py"), []byte(conf), 0o644)
	cfg, log, err := configure(t, nil, "--profile-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IP != "127.0.0.3" || !cfg.Reuse || cfg.ClusterID != "old" {
		t.Errorf("old names not applied: ip %q reuse %v id %q", cfg.IP, cfg.Reuse, cfg.ClusterID)
	}
	if !strings.Contains(log, "c.HubFactory.ip is an old name; use c.IPController.ip") || strings.Contains(log, "unknown") {
		t.Errorf("log: %s", log)
	}
}

func TestProfileConfigIsReadAndFlagsWin(t *testing.T) {
	dir := t.TempDir()
	conf := "c = get_config()\nc.HeartMonitor.period = 500\nc.TaskScheduler.hwm = 4\nc.TaskScheduler.scheme_name = 'lru'\n" +
		"c.IPController.ports = [10201, 10202]\nc.DictDB.record_limit = 7\nc.IPController.db_class = 'NoDB'\n"
	os.WriteFile(filepath.Join(dir, "ipcontroller_config.py"), []byte(conf), 0o644)
	os.WriteFile(filepath.Join(dir, "ipcontroller_config.json"), []byte(`{"TaskScheduler": {"scheme_name": "twobin"}}`), 0o644)
	extra := filepath.Join(t.TempDir(), "extra.py")
	os.WriteFile(extra, []byte("c.DictDB.record_limit = 9\n"), 0o644)
	cfg, _, err := configure(t, nil, "--profile-dir", dir, "--hwm=2", "--config", extra)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ping != 500*time.Millisecond || cfg.Scheme != "twobin" || cfg.HWM != 2 || len(cfg.Ports) != 2 || cfg.RecordLimit != 9 || !cfg.NoDB {
		t.Errorf("files or flag precedence wrong: %+v", cfg)
	}
	os.WriteFile(filepath.Join(dir, "ipcontroller_config.py"), []byte("c.HeartMonitor.period = 'often'\n"), 0o644)
	if _, _, err := configure(t, nil, "--profile-dir", dir); err == nil || !strings.Contains(err.Error(), "ipcontroller_config.py:1") {
		t.Errorf("bad value in a config file: %v", err)
	}
}

func TestHelpAndSampleComeFromTheDeclarations(t *testing.T) {
	opts := profiles.Usage(Options())
	for _, want := range []string{"--ping=MS", "heartbeat period in milliseconds", "--reuse ", "--hwm=N", "--log-to-file"} {
		if !strings.Contains(opts, want) {
			t.Errorf("usage lacks %q:\n%s", want, opts)
		}
	}
	sample := SampleConfig()
	for _, want := range []string{"# c.HeartMonitor.period = 3000", "# c.TaskScheduler.hwm = 1", "# c.IPController.ip = '127.0.0.1'",
		"# c.IPController.work_dir = ''", "# c.DictDB.record_limit = 1024"} {
		if !strings.Contains(sample, want) {
			t.Errorf("sample lacks %q:\n%s", want, sample)
		}
	}
	// the sample, uncommented, is a valid config that changes nothing
	var lines []string
	for _, l := range strings.Split(sample, "\n") {
		lines = append(lines, strings.TrimPrefix(l, "# c."))
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ipcontroller_config.py"), []byte(strings.ReplaceAll(sample, "\n# c.", "\nc.")), 0o644)
	cfg, log, err := configure(t, nil, "--profile-dir", dir)
	if err != nil || strings.Contains(log, "WARN") {
		t.Fatalf("uncommented sample: %v\n%s", err, log)
	}
	def := DefaultConfig()
	if cfg.Ping != def.Ping || cfg.HWM != def.HWM || cfg.IP != def.IP || cfg.Scheme != def.Scheme {
		t.Errorf("uncommented sample changed settings: %+v", cfg)
	}
}

// db_class takes ipyparallel's short and full class names; the SQLiteDB options are read.
func TestDBClassNamesAndSQLiteOptions(t *testing.T) {
	for _, c := range []struct {
		arg          string
		sqlite, nodb bool
	}{
		{"--sqlitedb", true, false},
		{"--IPController.db_class=SQLiteDB", true, false},
		{"--IPController.db_class=ipyparallel.controller.sqlitedb.SQLiteDB", true, false},
		{"--IPController.db_class=ipyparallel.controller.dictdb.DictDB", false, false},
		{"--IPController.db_class=ipyparallel.controller.dictdb.NoDB", false, true},
		{"--nodb", false, true},
	} {
		cfg, _, err := configure(t, nil, "--profile-dir", t.TempDir(), c.arg)
		if err != nil || cfg.SQLite != c.sqlite || cfg.NoDB != c.nodb {
			t.Errorf("%s: SQLite=%v NoDB=%v err=%v; want SQLite=%v NoDB=%v", c.arg, cfg.SQLite, cfg.NoDB, err, c.sqlite, c.nodb)
		}
	}
	cfg, _, err := configure(t, nil, "--profile-dir", t.TempDir(), "--sqlitedb",
		"--SQLiteDB.filename=records.db", "--SQLiteDB.location=/tmp/x", "--SQLiteDB.table=mine")
	if err != nil || cfg.SQLiteFile != "records.db" || cfg.SQLiteLocation != "/tmp/x" || cfg.SQLiteTable != "mine" {
		t.Errorf("SQLiteDB options: %q %q %q, %v", cfg.SQLiteFile, cfg.SQLiteLocation, cfg.SQLiteTable, err)
	}
}
