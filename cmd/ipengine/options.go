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
	"ipcluster/runtime/engine"
)

// Defaults of the waits, in seconds as on the command line.
const (
	defaultFileWait    = 30 // ipyparallel waits 10 s; batch jobs often start before the controller
	defaultRegTimeout  = 10 // ipyparallel: 5 s; a busy controller host deserves more
	defaultKillTimeout = 3
)

// options are ipyparallel's ipengine aliases and flags that make sense for a shell engine,
// plus the shell engine's own (--shell, --kill-timeout).
var options = []profiles.Option{
	{Name: "file", Value: "PATH", Help: "engine connection file (default <profile_dir>/security/ipcontroller[-<cluster_id>]-engine.json)"},
	{Name: "profile", Value: "NAME", Help: "profile name (default: default)"},
	{Name: "profile-dir", Value: "DIR", Help: "profile directory (overrides --profile and --ipython-dir)"},
	{Name: "ipython-dir", Value: "DIR", Help: "IPython directory (default: $IPYTHONDIR or ~/.ipython)"},
	{Name: "cluster-id", Value: "ID", Help: "cluster id, part of the connection file name (may be empty)"},
	{Name: "wait-for-url-file", Value: "SECONDS", Help: fmt.Sprintf("how long to wait for the connection file to appear (default %d)", defaultFileWait)},
	{Name: "timeout", Value: "SECONDS", Help: fmt.Sprintf("how long to wait for the controller's registration reply (default %d)", defaultRegTimeout)},
	{Name: "location", Value: "HOST", Help: "controller host to use when the connection file's interface is 0.0.0.0 or *"},
	{Name: "id", Value: "N", Help: "engine id to request from the controller"},
	{Name: "mpi", Flag: true, Help: "request the MPI rank as engine id (OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK, SLURM_PROCID)"},
	{Name: "ident", Value: "UUID", Help: "engine uuid (default: a new random one)"},
	{Name: "work-dir", Value: "DIR", Help: "directory the commands run in (default: the current directory)"},
	{Name: "shell", Value: "CMD", Help: "shell that runs the code: '/bin/bash' (run as /bin/bash -c CODE) or a full prefix like 'bash -lc' (default /bin/sh)"},
	{Name: "max-heartbeat-misses", Value: "N", Help: "leave after N heartbeat checks (every hb_period+0.5 s) without a ping (default 10)"},
	{Name: "kill-timeout", Value: "SECONDS", Help: fmt.Sprintf("SIGTERM to SIGKILL delay when stopping a command (default %d)", defaultKillTimeout)},
	{Name: "log-level", Value: "LEVEL", Help: "10/DEBUG, 20/INFO (default), 30/WARN, 40/ERROR, 50/CRITICAL"},
	{Name: "log-to-file", Flag: true, Help: "log to <profile_dir>/log/ipengine-<cluster_id>-<pid>.log"},
	{Name: "debug", Flag: true, Help: "same as --log-level=DEBUG"},
	{Name: "quiet", Flag: true, Help: "same as --log-level=CRITICAL"},
	{Name: "clean-logs", Value: "BOOL", Help: "accepted for compatibility (ignored)"},
	{Name: "log-url", Value: "URL", Help: "accepted for compatibility (ignored)"},
}

// setup is the configured engine: where to find the controller, and how to run.
type setup struct {
	source  engine.Source
	cfg     engine.Config
	mpi     bool
	closeFn func()
}

// configure turns the command line and environment (getenv) into a setup. Precedence:
// environment < command line, as in ipyparallel.
func configure(args *profiles.Args, getenv func(string) string) (*setup, error) {
	s := &setup{closeFn: func() {}}
	src := &s.source
	profileDir, origin := args.Get("profile-dir"), "--profile-dir"
	if profileDir == "" && !args.Has("profile") && getenv("IPP_PROFILE_DIR") != "" {
		profileDir, origin = getenv("IPP_PROFILE_DIR"), "IPP_PROFILE_DIR"
	}
	if profileDir == "" {
		origin = "profile " + strconv.Quote(orDefault(args.Get("profile"), "default"))
	}
	src.ProfileDir = profiles.Locate(args.Get("ipython-dir"), args.Get("profile"), profileDir)
	if id, ok := args.Lookup("cluster-id"); ok {
		src.ClusterID = id
		origin += ", --cluster-id"
	} else if id := getenv("IPP_CLUSTER_ID"); id != "" {
		src.ClusterID = id
		origin += ", IPP_CLUSTER_ID"
	}
	src.Origin = "from " + origin
	src.File = args.Get("file")
	src.ConnectionInfo = getenv("IPP_CONNECTION_INFO")
	cfg := &s.cfg
	cfg.ClusterID = src.ClusterID
	cfg.Location = args.Get("location")
	cfg.UUID = args.Get("ident")
	cfg.WorkDir = args.Get("work-dir")
	s.mpi = args.Has("mpi")
	fileWait, regTimeout, killTimeout := float64(defaultFileWait), float64(defaultRegTimeout), float64(defaultKillTimeout)
	level := slog.LevelInfo
	var err error
	set := map[string]func(string) error{
		"wait-for-url-file":    func(v string) error { return seconds(&fileWait, v, true) },
		"timeout":              func(v string) error { return seconds(&regTimeout, v, false) },
		"kill-timeout":         func(v string) error { return seconds(&killTimeout, v, false) },
		"id":                   func(v string) error { return engineID(&cfg.ID, v) },
		"max-heartbeat-misses": func(v string) error { return count(&cfg.MaxHeartbeatMisses, v) },
		"shell":                func(v string) error { return shell(&cfg.Shell, v) },
		"log-level":            func(v string) error { level, err = profiles.ParseLogLevel(v); return err },
	}
	for _, name := range []string{"wait-for-url-file", "timeout", "kill-timeout", "id", "max-heartbeat-misses", "shell", "log-level"} {
		if v, ok := args.Lookup(name); ok {
			if err := set[name](v); err != nil {
				return nil, fmt.Errorf("--%s: %w", name, err)
			}
		}
	}
	var warnings []string
	for _, t := range args.Traits {
		name, known := traitOptions[t.Class+"."+t.Name]
		switch {
		case !known:
			warnings = append(warnings, fmt.Sprintf("--%s ignored: this engine has no such setting", t))
		case name == "mpi":
			s.mpi = profiles.LiteralValue(t.Value) == true
		case name == "file":
			src.File = t.Value
		case name == "cluster-id":
			src.ClusterID, cfg.ClusterID = t.Value, t.Value
		case name == "location":
			cfg.Location = t.Value
		case name == "work-dir":
			cfg.WorkDir = t.Value
		case name == "ident":
			cfg.UUID = t.Value
		default:
			if err := set[name](t.Value); err != nil {
				return nil, fmt.Errorf("--%s.%s: %w", t.Class, t.Name, err)
			}
		}
	}
	src.Wait = duration(fileWait)
	cfg.RegistrationTimeout = duration(regTimeout)
	cfg.KillGrace = duration(killTimeout)
	if args.Has("debug") {
		level = slog.LevelDebug
	}
	if args.Has("quiet") {
		level = slog.LevelError + 4
	}
	var out io.Writer = os.Stderr
	if args.Has("log-to-file") {
		dir := profiles.Dir(src.ProfileDir).Log()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("--log-to-file: %w", err)
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("ipengine-%s-%d.log", src.ClusterID, os.Getpid())))
		if err != nil {
			return nil, fmt.Errorf("--log-to-file: %w", err)
		}
		out, s.closeFn = f, func() { f.Close() }
	}
	cfg.Logger = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))
	for _, w := range warnings {
		cfg.Logger.Warn(w)
	}
	return s, nil
}

// traitOptions maps ipyparallel's engine traits (--Class.trait=value) to our options.
var traitOptions = map[string]string{
	"IPEngine.url_file":                  "file",
	"IPEngine.wait_for_url_file":         "wait-for-url-file",
	"IPEngine.timeout":                   "timeout",
	"IPEngine.max_heartbeat_misses":      "max-heartbeat-misses",
	"IPEngine.id":                        "id",
	"IPEngine.use_mpi":                   "mpi",
	"IPEngine.location":                  "location",
	"BaseParallelApplication.work_dir":   "work-dir",
	"BaseParallelApplication.cluster_id": "cluster-id",
	"Session.session":                    "ident",
	"ShellEngine.shell":                  "shell",
	"ShellEngine.kill_timeout":           "kill-timeout",
}

func seconds(dst *float64, v string, zeroOK bool) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || (f == 0 && !zeroOK) {
		return fmt.Errorf("%q is not a positive number of seconds", v)
	}
	*dst = f
	return nil
}

func duration(sec float64) time.Duration { return time.Duration(sec * float64(time.Second)) }

func engineID(dst **int, v string) error {
	if strings.TrimSpace(v) == "None" || v == "" {
		*dst = nil
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not an engine id (a number >= 0)", v)
	}
	*dst = &n
	return nil
}

func count(dst *int, v string) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 {
		return fmt.Errorf("%q is not a count >= 1", v)
	}
	*dst = n
	return nil
}

// shell reads --shell: one word is a shell run as `<shell> -c CODE`; several words are the
// whole prefix (`bash -lc`).
func shell(dst *[]string, v string) error {
	fields := strings.Fields(strings.Trim(strings.TrimSpace(v), `'"`))
	switch len(fields) {
	case 0:
		return fmt.Errorf("empty shell")
	case 1:
		fields = append(fields, "-c")
	}
	*dst = fields
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
