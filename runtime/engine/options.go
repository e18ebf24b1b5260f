package engine

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"ipcluster/profiles"
	"ipcluster/traitconfig"
)

// appChain is the engine application's class and its bases; EngineFactory and IPEngineApp
// are the names older configs use for it.
var appChain = traitconfig.Chain{
	{"IPEngine", "EngineFactory", "IPEngineApp"},
	{"BaseParallelApplication"}, {"BaseIPythonApplication"}, {"Application"},
}

var oldClassNames = []string{"EngineFactory", "IPEngineApp"}

// Classes maps the classes the engine's options are declared on to the chains that read
// them, as ipyparallel's ipengine has them; ShellEngine holds this engine's own options.
var Classes = traitconfig.Classes{
	"IPEngine":                appChain,
	"BaseParallelApplication": appChain,
	"BaseIPythonApplication":  appChain,
	"Application":             appChain,
	"ShellEngine":             {{"ShellEngine"}},
	"Session":                 {{"Session"}},
	"MPI":                     {{"MPI"}},
}

// mpiSettings say whether to request the MPI rank as engine id.
type mpiSettings struct {
	UseMPI bool   `config:"use_mpi" class:"IPEngine" help:"request the MPI rank as engine id (from the environment mpiexec, mpirun or srun set)"`
	Use    string `config:"use" class:"MPI" help:"old form of use_mpi: any name (mpi4py, pytrilinos) turns it on; the rank comes from the environment, no MPI library is loaded"`
}

// compatSettings are ipyparallel engine settings for Python engines that this engine
// accepts and ignores, declared so that they are documented and do not warn.
type compatSettings struct {
	EnableNanny     bool    `config:"enable_nanny" class:"IPEngine" help:"accepted for compatibility (ignored)"`
	InitMPI         string  `config:"init_mpi" class:"IPEngine" help:"accepted for compatibility (Python code; ignored by this shell engine)"`
	MPIRegDelay     float64 `config:"mpi_registration_delay" class:"IPEngine" help:"accepted for compatibility (ignored)"`
	InitScript      string  `config:"init_script" class:"MPI" help:"accepted for compatibility (Python code; ignored by this shell engine)"`
	CopyConfigFiles bool    `config:"copy_config_files" class:"BaseIPythonApplication" help:"accepted for compatibility (ignored)"`
	Paramiko        bool    `config:"paramiko" class:"IPEngine" help:"accepted for compatibility (ignored: tunnels always use the built-in ssh client)"`
}

// Aliases are ipyparallel's ipengine command-line options and the traits they set, with
// this engine's own (--shell, --kill-timeout) and those of every application
// (profiles.BaseAliases).
var Aliases = append([]profiles.Alias{
	{Name: "file", Trait: "IPEngine.url_file", Value: "PATH"},
	{Name: "wait-for-url-file", Trait: "IPEngine.wait_for_url_file", Value: "SECONDS"},
	{Name: "timeout", Trait: "IPEngine.timeout", Value: "SECONDS"},
	{Name: "location", Trait: "IPEngine.location", Value: "HOST"},
	{Name: "ssh", Trait: "IPEngine.sshserver", Value: "[USER@]HOST[:PORT]"},
	{Name: "sshkey", Trait: "IPEngine.sshkey", Value: "FILE"},
	{Name: "id", Trait: "IPEngine.id", Value: "N"},
	{Name: "mpi", Trait: "MPI.use", Optional: true, Value: "NAME",
		Set:  []traitconfig.Trait{{Class: "IPEngine", Name: "use_mpi", Value: "True"}},
		Help: "request the MPI rank as engine id (OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK, SLURM_PROCID); --mpi=mpi4py is accepted"},
	{Name: "c", Trait: "IPEngine.startup_command", Value: "COMMAND"},
	{Name: "s", Trait: "IPEngine.startup_script", Value: "FILE"},
	{Name: "ident", Trait: "Session.session", Value: "UUID"},
	{Name: "shell", Trait: "ShellEngine.shell", Value: "CMD"},
	{Name: "max-heartbeat-misses", Trait: "IPEngine.max_heartbeat_misses", Value: "N"},
	{Name: "kill-timeout", Trait: "ShellEngine.kill_timeout", Value: "SECONDS"},
}, profiles.BaseAliases...)

// documented lists the engine's option structs with their defaults.
func documented() []any {
	cfg, app, src := DefaultConfig(), profiles.DefaultAppSettings(), Source{Wait: DefaultWait}
	return []any{&src, &cfg, &app, &mpiSettings{}, &compatSettings{}}
}

// DefaultWait is how long an engine waits for its connection file by default: ipyparallel
// waits 10 s, but batch jobs often start engines before the controller is up.
const DefaultWait = 30 * time.Second

// declarations are the engine's options, declared once.
var declarations = profiles.AppDeclarations{
	Title:   "Configuration file for ipengine (the Go shell engine reads these).",
	Classes: Classes,
	Aliases: Aliases,
	Order:   []string{"IPEngine", "ShellEngine", "MPI", "Session"},
	Structs: documented,
}

// Specs describes every option of the engine, grouped by class, for --help and the
// config file that `ipcluster profile create` writes.
func Specs() []traitconfig.ClassSpec { return declarations.Specs() }

// Options are the engine's command-line options (for profiles.ParseArgs and --help).
func Options() []profiles.Option { return declarations.Options() }

// SampleConfig is the commented config file of a new profile.
func SampleConfig() string { return declarations.SampleConfig() }

// Setup is a configured engine: where to find the controller, and how to run.
type Setup struct {
	Source Source
	Config Config
}

// Configure turns ipengine's command line (parsed with Options), the profile's
// ipengine_config.py/.json and the environment (getenv: IPP_PROFILE_DIR, IPP_CLUSTER_ID,
// IPP_CONNECTION_INFO; the MPI launcher's rank variables) into a Setup with its logger,
// which writes to stderr or, with log_to_file, to a file that the returned function closes.
// Precedence: defaults < profile files < --config file < environment < command line.
// Unknown or old class and trait names are logged as warnings.
func Configure(args *profiles.Args, getenv func(string) string, stderr io.Writer) (*Setup, func(), error) {
	noClose := func() {}
	s := &Setup{Source: Source{Wait: DefaultWait}, Config: DefaultConfig()}
	app, mpi, compat := profiles.DefaultAppSettings(), mpiSettings{}, compatSettings{}
	src, cfg := &s.Source, &s.Config
	var origin string
	src.ProfileDir, origin = profiles.LocateProfile(args, getenv)
	env := &traitconfig.Config{}
	if id := getenv("IPP_CLUSTER_ID"); id != "" {
		env.SetText(Classes.Main("BaseParallelApplication"), "cluster_id", id, traitconfig.Source{Name: "IPP_CLUSTER_ID"})
	}
	cli, err := profiles.CommandLine(args, Aliases, Classes)
	if err != nil {
		return nil, noClose, err
	}
	merged, err := profiles.LoadApp(args, src.ProfileDir, "ipengine", env, cli)
	if err != nil {
		return nil, noClose, err
	}
	if err := errors.Join(merged.DecodeClasses(Classes, src), merged.DecodeClasses(Classes, cfg),
		merged.DecodeClasses(Classes, &app), merged.DecodeClasses(Classes, &mpi),
		merged.DecodeClasses(Classes, &compat)); err != nil {
		return nil, noClose, err
	}
	// bad names the source of class.trait in an error.
	bad := func(class, trait, format string, a ...any) error {
		msg := fmt.Sprintf(format, a...)
		if a, ok, _ := merged.Lookup(Classes.Chain(class), trait); ok {
			return fmt.Errorf("%s: %s: %s", a.Source, a.Name(), msg)
		}
		return fmt.Errorf("c.%s.%s: %s", Classes.Main(class), trait, msg)
	}
	switch {
	case src.Wait < 0:
		return nil, noClose, bad("IPEngine", "wait_for_url_file", "want 0 or more seconds")
	case cfg.RegistrationTimeout <= 0:
		return nil, noClose, bad("IPEngine", "timeout", "want a positive number of seconds")
	case cfg.KillGrace <= 0:
		return nil, noClose, bad("ShellEngine", "kill_timeout", "want a positive number of seconds")
	case cfg.MaxHeartbeatMisses < 0:
		return nil, noClose, bad("IPEngine", "max_heartbeat_misses", "want 0 (never leave) or more")
	case cfg.ID != nil && *cfg.ID < 0:
		return nil, noClose, bad("IPEngine", "id", "want an engine id of 0 or more")
	case len(cfg.Shell) == 0:
		return nil, noClose, bad("ShellEngine", "shell", "empty shell")
	}
	if cfg.MaxHeartbeatMisses == 0 {
		cfg.MaxHeartbeatMisses = math.MaxInt // as ipyparallel: 0 disables the check
	}
	if a, given, _ := merged.Lookup(Classes.Chain("BaseParallelApplication"), "cluster_id"); given {
		origin += ", " + strings.SplitN(a.Source.String(), "=", 2)[0] // --cluster-id, IPP_CLUSTER_ID or a file
	}
	src.ClusterID = cfg.ClusterID
	src.Origin = "from " + origin
	src.ConnectionInfo = getenv("IPP_CONNECTION_INFO")
	if cfg.WorkDir, err = app.AbsWorkDir(); err != nil {
		return nil, noClose, err
	}
	if (mpi.UseMPI || mpi.Use != "") && cfg.ID == nil {
		rank, err := MPIRank(getenv)
		if err != nil {
			return nil, noClose, fmt.Errorf("--mpi: %w", err)
		}
		cfg.ID = &rank
	}
	log, closeLog, err := app.Logger(src.ProfileDir, "ipengine", cfg.ClusterID, stderr)
	if err != nil {
		return nil, noClose, err
	}
	cfg.Logger = log
	for _, w := range merged.Check(known()) {
		log.Warn(w.String())
	}
	for _, a := range merged.Assignments() {
		if slices.Contains(oldClassNames, a.Class) {
			log.Warn(fmt.Sprintf("%s: %s is an old name; use c.IPEngine.%s", a.Source, a.Name(), a.Trait))
		}
	}
	return s, closeLog, nil
}

func known() map[string][]string {
	k := map[string][]string{}
	if err := Classes.Known(k, documented()...); err != nil {
		panic(err)
	}
	return k
}

// ShellCommand is the command prefix that runs code: the code is appended as one argument.
// Config gives it as a list, or as text: one word is a shell run as `<shell> -c CODE`,
// several words are the whole prefix (`bash -lc`).
type ShellCommand []string

// DecodeConfig reads text or a list of strings.
func (s *ShellCommand) DecodeConfig(v any) error {
	switch v := v.(type) {
	case string:
		fields := strings.Fields(v)
		switch len(fields) {
		case 0:
			return fmt.Errorf("empty shell")
		case 1:
			fields = append(fields, "-c")
		}
		*s = fields
	case []any:
		var out ShellCommand
		if err := traitconfig.DecodeValue(v, (*[]string)(&out)); err != nil {
			return err
		}
		if len(out) == 0 {
			return fmt.Errorf("empty shell")
		}
		*s = out
	default:
		return fmt.Errorf("want a shell such as '/bin/bash' or ['bash', '-lc'], got %s", traitconfig.Literal(v))
	}
	return nil
}
