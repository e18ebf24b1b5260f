package controller

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"ipcluster/profiles"
	"ipcluster/traitconfig"
)

// appChain is the controller application's class and its bases; HubFactory,
// IPControllerApp and ControllerFactory are the names older configs use for it.
var appChain = traitconfig.Chain{
	{"IPController", "HubFactory", "IPControllerApp", "ControllerFactory"},
	{"BaseParallelApplication"}, {"BaseIPythonApplication"}, {"Application"},
}

// oldClassNames are the deprecated names of appChain, with a warning when used.
var oldClassNames = []string{"HubFactory", "IPControllerApp", "ControllerFactory"}

// Classes maps the classes the controller's options are declared on to the chains that
// read them, as ipyparallel's ipcontroller has them.
var Classes = traitconfig.Classes{
	"IPController":            appChain,
	"BaseParallelApplication": appChain,
	"BaseIPythonApplication":  appChain,
	"Application":             appChain,
	"HeartMonitor":            {{"HeartMonitor"}},
	"TaskScheduler":           {{"TaskScheduler"}, {"Scheduler"}},
	"DictDB":                  {{"DictDB"}, {"BaseDB"}},
	"SQLiteDB":                {{"SQLiteDB"}, {"BaseDB"}},
	"Session":                 {{"Session"}},
}

// compatSettings are ipyparallel settings this controller accepts and ignores, declared so
// that they are documented and do not warn.
type compatSettings struct {
	UseThreads      bool   `config:"use_threads" class:"IPController" help:"accepted for compatibility (the schedulers are goroutines of one process)"`
	CopyConfigFiles bool   `config:"copy_config_files" class:"BaseIPythonApplication" help:"accepted for compatibility (ignored)"`
	Username        string `config:"username" class:"Session" help:"accepted for compatibility (ignored)"`
	SessionID       string `config:"session" class:"Session" help:"accepted for compatibility (ignored)"`
}

// sessionSettings are the Session options whose form differs from Config's: a key given
// as ” means unsigned messages (ipyparallel's --no-secure), not "choose one".
type sessionSettings struct {
	Key     *string `config:"key" class:"Session" help:"HMAC key signing messages; '' for none (default: a new random key, or IPP_SESSION_KEY)"`
	KeyFile string  `config:"keyfile" class:"Session" help:"file holding the HMAC key"`
}

// Aliases are ipyparallel's ipcontroller command-line options and the traits they set
// (with the options every application has, profiles.BaseAliases).
var Aliases = slices.Concat([]profiles.Alias{
	{Name: "ip", Trait: "IPController.ip", Value: "IP"},
	{Name: "transport", Trait: "IPController.transport", Value: "NAME"},
	{Name: "location", Trait: "IPController.location", Value: "HOST"},
	{Name: "port", Trait: "IPController.regport", Value: "PORT"},
	{Name: "ports", Trait: "IPController.ports", Value: "LIST"},
	{Name: "ssh", Trait: "IPController.ssh_server", Value: "HOST"},
	{Name: "enginessh", Trait: "IPController.engine_ssh_server", Value: "HOST"},
	{Name: "ping", Trait: "HeartMonitor.period", Value: "MS"},
	{Name: "scheme", Trait: "TaskScheduler.scheme_name", Value: "NAME"},
	{Name: "hwm", Trait: "TaskScheduler.hwm", Value: "N"},
}, profiles.BaseAliases, []profiles.Alias{
	{Name: "reuse", Set: []traitconfig.Trait{{Class: "IPController", Name: "reuse_files", Value: "True"}}},
	{Name: "restore", Set: []traitconfig.Trait{{Class: "IPController", Name: "restore_engines", Value: "True"}, {Class: "IPController", Name: "reuse_files", Value: "True"}}, Help: "like --reuse, and take back the engines of the previous controller (log/engines<cluster_id>.json) under their old ids"},
	{Name: "dictdb", Set: []traitconfig.Trait{{Class: "IPController", Name: "db_class", Value: "DictDB"}}, Help: "keep task records in memory (default)"},
	{Name: "nodb", Set: []traitconfig.Trait{{Class: "IPController", Name: "db_class", Value: "NoDB"}}, Help: "keep no task records"},
	{Name: "sqlitedb", Set: []traitconfig.Trait{{Class: "IPController", Name: "db_class", Value: "SQLiteDB"}}, Help: "keep task records in an SQLite file (c.SQLiteDB.filename, default tasks.db in the profile directory) in ipyparallel's SQLiteDB layout; a controller restarted on it serves them"},
	{Name: "mongodb", Set: []traitconfig.Trait{{Class: "IPController", Name: "db_class", Value: "MongoDB"}}, Help: "not supported (no MongoDB here); use --sqlitedb or --dictdb"},
	{Name: "usethreads", Set: []traitconfig.Trait{{Class: "IPController", Name: "use_threads", Value: "True"}}},
	{Name: "init", Set: []traitconfig.Trait{{Class: "BaseIPythonApplication", Name: "copy_config_files", Value: "True"}}},
	{Name: "keyfile", Trait: "Session.keyfile", Value: "FILE"},
	{Name: "user", Trait: "Session.username", Value: "NAME"},
	{Name: "ident", Trait: "Session.session", Value: "ID"},
	{Name: "secure", Flag: true, Help: "sign messages (the default)"},
	{Name: "no-secure", Set: []traitconfig.Trait{{Class: "Session", Name: "key", Value: ""}, {Class: "Session", Name: "keyfile", Value: ""}},
		Help: "do not sign messages (insecure: anyone reaching the ports can run code on the engines)"},
})

// documented lists the controller's option structs with their defaults.
func documented() []any {
	app := profiles.DefaultAppSettings()
	cfg := DefaultConfig()
	return []any{&cfg, &app, &sessionSettings{}, &compatSettings{}}
}

// declarations are the controller's options, declared once.
var declarations = profiles.AppDeclarations{
	Title:   "Configuration file for ipcontroller (the Go controller reads these).",
	Classes: Classes,
	Aliases: Aliases,
	Order:   []string{"IPController", "HeartMonitor", "TaskScheduler", "DictDB", "SQLiteDB", "Session"},
	Structs: documented,
}

// Specs describes every option of the controller, grouped by class, for --help and the
// config file that `ipcluster profile create` writes.
func Specs() []traitconfig.ClassSpec { return declarations.Specs() }

// Options are the controller's command-line options (for profiles.ParseArgs and --help).
func Options() []profiles.Option { return declarations.Options() }

// SampleConfig is the commented config file of a new profile.
func SampleConfig() string { return declarations.SampleConfig() }

// Configure turns ipcontroller's command line (parsed with Options), the profile's
// ipcontroller_config.py/.json and the environment (getenv: IPP_PROFILE_DIR,
// IPP_CLUSTER_ID, IPP_SESSION_KEY, IPP_ENABLE_CURVE, IPP_CURVE_SECRETKEY,
// IPP_CURVE_PUBLICKEY) into a Config with its logger, which writes to stderr or,
// with log_to_file, to a file that the returned function closes. Precedence: defaults <
// profile files < --config file < environment < command line. Unknown or old class and
// trait names are logged as warnings. It changes to work_dir if one is set.
func Configure(args *profiles.Args, getenv func(string) string, stderr io.Writer) (Config, func(), error) {
	cfg, app, warnings, err := decode(args, getenv)
	noClose := func() {}
	if err != nil {
		return cfg, noClose, err
	}
	if dir, err := app.AbsWorkDir(); err != nil {
		return cfg, noClose, err
	} else if dir != "" {
		if err := os.Chdir(dir); err != nil {
			return cfg, noClose, fmt.Errorf("work_dir: %w", err)
		}
	}
	log, closeLog, err := app.Logger(cfg.ProfileDir, "ipcontroller", cfg.ClusterID, stderr)
	if err != nil {
		return cfg, noClose, err
	}
	cfg.Logger = log
	for _, w := range warnings {
		log.Warn(w)
	}
	if cfg.Unsigned {
		log.Warn("messages are not signed (--no-secure): anyone who can reach the ports can run code on the engines")
	}
	return cfg, closeLog, nil
}

// decode reads the layers into a Config and the application settings, and lists warnings.
func decode(args *profiles.Args, getenv func(string) string) (Config, profiles.AppSettings, []string, error) {
	cfg, app := DefaultConfig(), profiles.DefaultAppSettings()
	cfg.ProfileDir, _ = profiles.LocateProfile(args, getenv)
	env := &traitconfig.Config{}
	if id := getenv("IPP_CLUSTER_ID"); id != "" {
		env.SetText(Classes.Main("BaseParallelApplication"), "cluster_id", id, traitconfig.Source{Name: "IPP_CLUSTER_ID"})
	}
	if key := getenv("IPP_SESSION_KEY"); key != "" {
		env.SetText("Session", "key", key, traitconfig.Source{Name: "IPP_SESSION_KEY"})
	}
	if getenv("IPP_ENABLE_CURVE") == "1" {
		env.SetText(Classes.Main("IPController"), "enable_curve", "True", traitconfig.Source{Name: "IPP_ENABLE_CURVE"})
	}
	for name, trait := range map[string]string{"IPP_CURVE_SECRETKEY": "curve_secretkey", "IPP_CURVE_PUBLICKEY": "curve_publickey"} {
		if key := getenv(name); key != "" {
			env.Set(Classes.Main("IPController"), trait, key, traitconfig.Source{Name: name})
		}
	}
	cli, err := profiles.CommandLine(args, Aliases, Classes)
	if err != nil {
		return cfg, app, nil, err
	}
	merged, err := profiles.LoadApp(args, cfg.ProfileDir, "ipcontroller", env, cli)
	if err != nil {
		return cfg, app, nil, err
	}
	compat, session := compatSettings{}, sessionSettings{}
	if err := errors.Join(merged.DecodeClasses(Classes, &cfg), merged.DecodeClasses(Classes, &app),
		merged.DecodeClasses(Classes, &session), merged.DecodeClasses(Classes, &compat)); err != nil {
		return cfg, app, nil, err
	}
	if err := resolve(&cfg, session, merged); err != nil {
		return cfg, app, nil, err
	}
	return cfg, app, warnings(merged), nil
}

// warnings names the settings nothing reads and the old class names.
func warnings(merged *traitconfig.Config) []string {
	known := map[string][]string{}
	if err := Classes.Known(known, documented()...); err != nil {
		panic(err)
	}
	var out []string
	for _, w := range merged.Check(known) {
		out = append(out, w.String())
	}
	for _, a := range merged.Assignments() {
		if slices.Contains(oldClassNames, a.Class) {
			out = append(out, fmt.Sprintf("%s: %s is an old name; use c.IPController.%s", a.Source, a.Name(), a.Trait))
		}
	}
	return out
}

// resolve derives the settings that several traits feed and checks values.
func resolve(cfg *Config, session sessionSettings, merged *traitconfig.Config) error {
	// bad names the source of class.trait in an error.
	bad := func(class, trait, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if a, ok, _ := merged.Lookup(Classes.Chain(class), trait); ok {
			return fmt.Errorf("%s: %s: %s", a.Source, a.Name(), msg)
		}
		return fmt.Errorf("c.%s.%s: %s", Classes.Main(class), trait, msg)
	}
	switch {
	case cfg.EngineIP != "":
		cfg.IP = cfg.EngineIP
	case cfg.ClientIP != "":
		cfg.IP = cfg.ClientIP
	}
	transportTrait := "transport" // the error names the option the user set
	switch {
	case cfg.EngineTransport != "":
		cfg.Transport, transportTrait = cfg.EngineTransport, "engine_transport"
	case cfg.ClientTransport != "":
		cfg.Transport, transportTrait = cfg.ClientTransport, "client_transport"
	}
	if cfg.Transport != "" && cfg.Transport != "tcp" && cfg.Transport != "ipc" {
		return bad("IPController", transportTrait, "transport %q is not supported: use tcp or ipc", cfg.Transport)
	}
	if cfg.RegPort > 0 {
		cfg.Ports = append(PortList{cfg.RegPort}, cfg.Ports...)
	}
	cfg.Reuse = cfg.Reuse || cfg.Restore
	// db_class by short name or ipyparallel's full one (ipyparallel.controller.sqlitedb.SQLiteDB).
	switch db := cfg.DBClass[strings.LastIndex(cfg.DBClass, ".")+1:]; db {
	case "", "DictDB":
		cfg.NoDB, cfg.SQLite = false, false
	case "NoDB":
		cfg.NoDB, cfg.SQLite = true, false
	case "SQLiteDB":
		cfg.NoDB, cfg.SQLite = false, true
	case "MongoDB":
		return bad("IPController", "db_class", "MongoDB is not supported (no MongoDB server or driver here): use --sqlitedb to keep task records in a file, or --dictdb")
	default:
		return bad("IPController", "db_class", "unknown task database %q: use DictDB, SQLiteDB or NoDB (--dictdb, --sqlitedb, --nodb)", cfg.DBClass)
	}
	if session.Key != nil {
		cfg.Key = *session.Key
		cfg.Unsigned = cfg.Key == "" // --no-secure, or c.Session.key = b'' as in ipyparallel
	}
	if session.KeyFile != "" {
		data, err := os.ReadFile(session.KeyFile)
		if err != nil {
			return bad("Session", "keyfile", "%v", err)
		}
		cfg.Key, cfg.Unsigned = strings.TrimSpace(string(data)), false
	}
	cfg.HWMSet = true // the value is the default or one given
	cfg.QueueHWMSet = true
	switch {
	case cfg.Ping <= 0:
		return bad("HeartMonitor", "period", "want a positive number of milliseconds, got %d", cfg.Ping.Milliseconds())
	case cfg.HWM < 0:
		return bad("TaskScheduler", "hwm", "want a count of 0 (unlimited) or more, got %d", cfg.HWM)
	case cfg.SendHWM < 0:
		return bad("IPController", "send_hwm", "want a count of 0 (unlimited) or more, got %d", cfg.SendHWM)
	case cfg.RecvHWM < 0:
		return bad("IPController", "recv_hwm", "want a count of 0 (unlimited) or more, got %d", cfg.RecvHWM)
	case cfg.MaxMisses < 1:
		return bad("HeartMonitor", "max_heartmonitor_misses", "want 1 or more, got %d", cfg.MaxMisses)
	case cfg.BroadcastDepth < 1 || cfg.BroadcastDepth > 6:
		return bad("IPController", "broadcast_scheduler_depth", "want 1 to 6, got %d", cfg.BroadcastDepth)
	}
	if _, ok := schemes[cfg.Scheme]; !ok && cfg.Scheme != "pure" && cfg.Scheme != "none" {
		return bad("TaskScheduler", "scheme_name", "unknown scheme %q (choose leastload, lru, plainrandom, twobin, weighted, pure or none)", cfg.Scheme)
	}
	return nil
}

// PortList is a pool of ports, given as a list, one port, or text such as
// '10101-10120,10130' (as ipyparallel's PortList trait reads them).
type PortList []int

// DecodeConfig reads a port, a list of ports and ranges, or a text of them.
func (p *PortList) DecodeConfig(v any) error {
	var out PortList
	var add func(v any) error
	add = func(v any) error {
		switch v := v.(type) {
		case int64:
			if v < 1 || v > 65535 {
				return fmt.Errorf("port %d is out of range (1-65535)", v)
			}
			out = append(out, int(v))
		case string:
			ports, err := parsePorts(v)
			if err != nil {
				return err
			}
			out = append(out, ports...)
		case []any:
			for _, x := range v {
				if err := add(x); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("want ports as a list or text such as '10101-10120', got %s", traitconfig.Literal(v))
		}
		return nil
	}
	if err := add(v); err != nil {
		return err
	}
	*p = out
	return nil
}

// parsePorts reads "10101-10120", "10101,10102" or a mix.
func parsePorts(s string) ([]int, error) {
	var ports []int
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 1 || a > 65535 {
			return nil, fmt.Errorf("%q is not a port or range", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a || b > 65535 {
				return nil, fmt.Errorf("%q is not a port range", part)
			}
		}
		for p := a; p <= b; p++ {
			ports = append(ports, p)
		}
	}
	return ports, nil
}
