package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"ipcluster/profiles"
	"ipcluster/runtime/controller"
)

// options are ipyparallel's ipcontroller aliases and flags.
var options = []profiles.Option{
	{Name: "profile", Value: "NAME", Help: "profile name (default: default)"},
	{Name: "profile-dir", Value: "DIR", Help: "profile directory (overrides --profile and --ipython-dir)"},
	{Name: "ipython-dir", Value: "DIR", Help: "IPython directory (default: $IPYTHONDIR or ~/.ipython)"},
	{Name: "cluster-id", Value: "ID", Help: "cluster id, part of the connection file names (may be empty)"},
	{Name: "ip", Value: "IP", Help: "address to bind (default 127.0.0.1; '*' for all interfaces)"},
	{Name: "transport", Value: "NAME", Help: "ZeroMQ transport (default tcp)"},
	{Name: "location", Value: "HOST", Help: "controller host name written into the connection files"},
	{Name: "port", Value: "PORT", Help: "registration port"},
	{Name: "ports", Value: "LIST", Help: "ports to use, e.g. 10101-10120 or 10101,10102"},
	{Name: "ping", Value: "MS", Help: "heartbeat period in milliseconds (default 3000)"},
	{Name: "scheme", Value: "NAME", Help: "task scheme: leastload, lru, plainrandom, twobin, weighted, pure, none"},
	{Name: "hwm", Value: "N", Help: "tasks outstanding per engine (default 1; 0 = unlimited)"},
	{Name: "reuse", Flag: true, Help: "reuse existing connection files (same key and ports) and keep them on exit"},
	{Name: "restore", Flag: true, Help: "like --reuse (engines re-register on their own)"},
	{Name: "dictdb", Flag: true, Help: "keep task records in memory (default)"},
	{Name: "nodb", Flag: true, Help: "keep no task records"},
	{Name: "sqlitedb", Flag: true, Help: "not supported; use --dictdb"},
	{Name: "mongodb", Flag: true, Help: "not supported; use --dictdb"},
	{Name: "ssh", Value: "HOST", Help: "ssh server for clients, written into the client file"},
	{Name: "enginessh", Value: "HOST", Help: "ssh server for engines, written into the engine file"},
	{Name: "log-level", Value: "LEVEL", Help: "10/DEBUG, 20/INFO (default), 30/WARN, 40/ERROR, 50/CRITICAL"},
	{Name: "log-to-file", Flag: true, Help: "log to <profile_dir>/log/ipcontroller-<id>-<pid>.log"},
	{Name: "debug", Flag: true, Help: "same as --log-level=DEBUG"},
	{Name: "quiet", Flag: true, Help: "same as --log-level=CRITICAL"},
	{Name: "work-dir", Value: "DIR", Help: "change to this directory at start"},
	{Name: "usethreads", Flag: true, Help: "accepted for compatibility (always one process)"},
	{Name: "init", Flag: true, Help: "accepted for compatibility"},
	{Name: "clean-logs", Value: "BOOL", Help: "accepted for compatibility"},
	{Name: "log-url", Value: "URL", Help: "accepted for compatibility (ignored)"},
	{Name: "config", Value: "FILE", Help: "accepted for compatibility (ignored)"},
	{Name: "user", Value: "NAME", Help: "accepted for compatibility (ignored)"},
	{Name: "ident", Value: "ID", Help: "accepted for compatibility (ignored)"},
	{Name: "keyfile", Value: "FILE", Help: "read the HMAC key from FILE"},
	{Name: "secure", Flag: true, Help: "sign messages (default)"},
	{Name: "no-secure", Flag: true, Help: "do not sign messages (insecure)"},
}

// configure turns the command line and environment into a controller configuration.
func configure(args *profiles.Args) (controller.Config, func(), error) {
	var cfg controller.Config
	noClose := func() {}
	if dir := args.Get("work-dir"); dir != "" {
		if err := os.Chdir(dir); err != nil {
			return cfg, noClose, fmt.Errorf("--work-dir: %w", err)
		}
	}
	profileDir := args.Get("profile-dir")
	if profileDir == "" && !args.Has("profile") {
		profileDir = os.Getenv("IPP_PROFILE_DIR")
	}
	cfg.ProfileDir = profiles.Locate(args.Get("ipython-dir"), args.Get("profile"), profileDir)
	if id, ok := args.Lookup("cluster-id"); ok {
		cfg.ClusterID = id
	} else {
		cfg.ClusterID = os.Getenv("IPP_CLUSTER_ID")
	}
	// The profile's ipcontroller_config.py/.json come first: the command line overrides them.
	var warnings []string
	files, err := profiles.LoadProfile(cfg.ProfileDir, "ipcontroller")
	if err != nil {
		return cfg, noClose, err
	}
	for _, a := range files.Assignments() {
		if a.Lazy != nil {
			warnings = append(warnings, a.Source.String()+": "+a.Name()+": append/update is not supported here; assign the whole value")
			continue
		}
		if w := applyTrait(&cfg, profiles.Trait{Class: a.Class, Name: a.Trait, Value: profiles.Literal(a.Value)}); w != "" {
			warnings = append(warnings, a.Source.String()+": "+w)
		}
	}
	setIf := func(dst *string, name string) {
		if v, ok := args.Lookup(name); ok {
			*dst = v
		}
	}
	setIf(&cfg.IP, "ip")
	setIf(&cfg.Transport, "transport")
	setIf(&cfg.Location, "location")
	setIf(&cfg.SSH, "ssh")
	setIf(&cfg.EngineSSH, "enginessh")
	setIf(&cfg.Scheme, "scheme")
	cfg.Reuse = cfg.Reuse || args.Has("reuse") || args.Has("restore")
	cfg.NoDB = cfg.NoDB && !args.Has("dictdb") || args.Has("nodb")
	if args.Has("sqlitedb") || args.Has("mongodb") {
		return cfg, noClose, fmt.Errorf("only the in-memory database is supported (use --dictdb or --nodb)")
	}
	if v, ok := args.Lookup("ports"); ok {
		ports, err := parsePorts(v)
		if err != nil {
			return cfg, noClose, err
		}
		cfg.Ports = ports
	}
	if v, ok := args.Lookup("port"); ok {
		port, err := strconv.Atoi(v)
		if err != nil {
			return cfg, noClose, fmt.Errorf("--port: %q is not a number", v)
		}
		cfg.Ports = append([]int{port}, cfg.Ports...)
	}
	if v, ok := args.Lookup("ping"); ok {
		if err := setMillis(&cfg.Ping, v, "--ping"); err != nil {
			return cfg, noClose, err
		}
	}
	if v, ok := args.Lookup("hwm"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return cfg, noClose, fmt.Errorf("--hwm: %q is not a count", v)
		}
		cfg.HWM, cfg.HWMSet = n, true
	}
	if key := os.Getenv("IPP_SESSION_KEY"); key != "" {
		cfg.Key = key
	}
	if f := args.Get("keyfile"); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return cfg, noClose, fmt.Errorf("--keyfile: %w", err)
		}
		cfg.Key = strings.TrimSpace(string(data))
	}
	level := slog.LevelInfo
	if v, ok := args.Lookup("log-level"); ok {
		l, err := profiles.ParseLogLevel(v)
		if err != nil {
			return cfg, noClose, fmt.Errorf("--log-level: %w", err)
		}
		level = l
	}
	if args.Has("debug") {
		level = slog.LevelDebug
	}
	if args.Has("quiet") {
		level = profiles.LevelCritical
	}
	for _, t := range args.Traits {
		if w := applyTrait(&cfg, t); w != "" {
			warnings = append(warnings, w)
		}
	}
	if args.Has("no-secure") {
		cfg.Key = "-" // replaced below: an empty key means unsigned
	}
	var out io.Writer = os.Stderr
	closeLog := noClose
	if args.Has("log-to-file") {
		dir := profiles.Dir(cfg.ProfileDir).Log()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return cfg, noClose, err
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("ipcontroller-%s-%d.log", cfg.ClusterID, os.Getpid())))
		if err != nil {
			return cfg, noClose, err
		}
		out, closeLog = f, func() { f.Close() }
	}
	cfg.Logger = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))
	for _, w := range warnings {
		cfg.Logger.Warn(w)
	}
	if cfg.Key == "-" {
		cfg.Logger.Warn("messages are not signed (--no-secure): anyone who can reach the ports can run code on the engines")
		cfg.Key = ""
		cfg.SignatureScheme = "hmac-sha256"
		cfg.Unsigned = true
	}
	return cfg, closeLog, nil
}

// applyTrait applies a --Class.trait=value the controller knows, or returns a warning.
func applyTrait(cfg *controller.Config, t profiles.Trait) string {
	class := t.Class
	switch class {
	case "HubFactory", "IPControllerApp", "ControllerFactory":
		class = "IPController" // ipyparallel's deprecated names
	}
	v := profiles.LiteralValue(t.Value)
	str := fmt.Sprint(v)
	num := func() (int, bool) {
		switch n := v.(type) {
		case int64:
			return int(n), true
		case float64:
			return int(n), true
		}
		return 0, false
	}
	bad := func() string { return fmt.Sprintf("--%s: invalid value %q", t.Class+"."+t.Name, t.Value) }
	switch class + "." + t.Name {
	case "HeartMonitor.period":
		n, ok := num()
		if !ok || n <= 0 {
			return bad()
		}
		cfg.Ping = time.Duration(n) * time.Millisecond
	case "HeartMonitor.max_heartmonitor_misses":
		n, ok := num()
		if !ok {
			return bad()
		}
		cfg.MaxMisses = n
	case "TaskScheduler.hwm":
		n, ok := num()
		if !ok || n < 0 {
			return bad()
		}
		cfg.HWM, cfg.HWMSet = n, true
	case "TaskScheduler.scheme_name":
		cfg.Scheme = str
	case "IPController.ip", "IPController.engine_ip", "IPController.client_ip":
		cfg.IP = str
	case "IPController.location":
		cfg.Location = str
	case "IPController.transport":
		cfg.Transport = str
	case "IPController.reuse_files", "IPController.restore_engines":
		cfg.Reuse = cfg.Reuse || v == true
	case "IPController.ssh_server":
		cfg.SSH = str
	case "IPController.engine_ssh_server":
		cfg.EngineSSH = str
	case "IPController.broadcast_scheduler_depth":
		n, ok := num()
		if !ok || n < 1 || n > 6 {
			return bad()
		}
		cfg.BroadcastDepth = n
	case "IPController.ports":
		ports, err := parsePorts(strings.Trim(str, "[]"))
		if err != nil {
			return err.Error()
		}
		cfg.Ports = ports
	case "IPController.db_class":
		switch {
		case strings.HasSuffix(str, "NoDB"):
			cfg.NoDB = true
		case strings.HasSuffix(str, "DictDB"):
			cfg.NoDB = false
		default:
			return fmt.Sprintf("--%s=%s: only DictDB and NoDB are supported; using DictDB", t.Class+"."+t.Name, str)
		}
	case "DictDB.record_limit":
		n, ok := num()
		if !ok {
			return bad()
		}
		cfg.RecordLimit = n
	case "DictDB.size_limit":
		n, ok := num()
		if !ok {
			return bad()
		}
		cfg.SizeLimit = int64(n)
	case "Session.key":
		cfg.Key = str
	case "Session.signature_scheme":
		cfg.SignatureScheme = str
	case "BaseParallelApplication.cluster_id", "IPController.cluster_id":
		cfg.ClusterID = str
	default:
		return fmt.Sprintf("--%s ignored: this controller has no such setting", t.Class+"."+t.Name)
	}
	return ""
}

// parsePorts reads "10101-10120", "10101,10102" or a mix.
func parsePorts(s string) ([]int, error) {
	var ports []int
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("--ports: %q is not a port or range", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("--ports: %q is not a port range", part)
			}
		}
		for p := a; p <= b; p++ {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

func setMillis(d *time.Duration, v, name string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return fmt.Errorf("%s: %q is not a positive number of milliseconds", name, v)
	}
	*d = time.Duration(n) * time.Millisecond
	return nil
}
