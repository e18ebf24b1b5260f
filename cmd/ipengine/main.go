// Command ipengine is the Go shell engine for IPython Parallel: it registers with a
// controller (ours or ipyparallel's) like ipyparallel's ipengine and runs the code of every
// execute request as a shell command, streaming its output back. It accepts ipyparallel's
// engine command line (--profile-dir D --cluster-id ”, --file, --mpi, --log-level=20,
// --IPEngine.trait=value) and environment (IPP_CONNECTION_INFO, IPP_PROFILE_DIR,
// IPP_CLUSTER_ID, IPP_SESSION_KEY).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"ipcluster/profiles"
	"ipcluster/runtime/engine"
	"ipcluster/runtime/transport"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // no controller, registration refused, controller gone
	exitUsage = 2
)

func main() {
	if engine.IsGuard() { // started by an engine to stop its command's processes if it dies
		engine.RunGuard(os.Stdin)
		return
	}
	transport.OneProcessor()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// For performance work: IPENGINE_CPUPROFILE=prefix writes prefix.<pid> (a pprof CPU profile).
	if prefix := os.Getenv("IPENGINE_CPUPROFILE"); prefix != "" {
		if f, err := os.Create(fmt.Sprintf("%s.%d", prefix, os.Getpid())); err == nil {
			pprof.StartCPUProfile(f)
			code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the whole program; ctx ends on SIGINT/SIGTERM.
func run(ctx context.Context, argv []string, getenv func(string) string, stdout, stderr io.Writer) int {
	args, err := profiles.ParseArgs(argv, options)
	if errors.Is(err, profiles.ErrHelp) {
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "ipengine: %v\n", err)
		return exitUsage
	}
	s, err := configure(args, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "ipengine: %v\n", err)
		return exitUsage
	}
	defer s.closeFn()
	log := s.cfg.Logger
	if s.mpi && s.cfg.ID == nil {
		rank, err := engine.MPIRank(getenv)
		if err != nil {
			fmt.Fprintf(stderr, "ipengine: --mpi: %v\n", err)
			return exitUsage
		}
		s.cfg.ID = &rank
	}
	info, where, err := s.source.Load(ctx)
	if err != nil {
		log.Error("no controller", "err", err)
		fmt.Fprintf(stderr, "ipengine: %v\n", err)
		return exitError
	}
	if info.Key == "" {
		info.Key = getenv("IPP_SESSION_KEY") // the file's key wins, as in ipyparallel
	}
	log.Info("using connection info", "from", where)
	s.cfg.Info = info
	if self, err := os.Executable(); err == nil {
		s.cfg.GuardProgram = self
	}
	e, err := engine.New(s.cfg)
	if err != nil {
		fmt.Fprintf(stderr, "ipengine: %v\n", err)
		return exitUsage
	}
	if err := e.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "ipengine: %v\n", err)
		return exitError
	}
	return exitOK
}

func usage() string {
	return `ipengine: the Go IPython-Parallel engine for shell commands.

It registers with a controller (found through --file, IPP_CONNECTION_INFO, or the profile's
ipcontroller[-<cluster_id>]-engine.json) and runs the code of every execute request as a shell
command in the work directory, in its own process group, with IPP_ENGINE_ID, IPP_ENGINE_UUID and
IPP_CLUSTER_ID set. Output streams back while the command runs; a non-zero exit is an error
(CommandError) carrying the exit code. Python functions (apply/map) need Python engines:
  c.EngineLauncher.engine_cmd = ['/usr/bin/python3', '-m', 'ipyparallel.engine']

  view.execute('hostname', block=True).stdout      # from ipyparallel's Client

It stops on shutdown requests, SIGINT/SIGTERM (stopping the running command), or when the
controller's heartbeats stop. If it is killed outright (SIGKILL), a small guard process it started
with the first command stops what that command left running.

Options:
` + profiles.Usage(options) + `
ipyparallel's --IPEngine.url_file, wait_for_url_file, timeout, max_heartbeat_misses, id, use_mpi,
location and --BaseParallelApplication.work_dir/cluster_id are accepted too.

Environment: IPYTHONDIR, IPP_CONNECTION_INFO, IPP_PROFILE_DIR, IPP_CLUSTER_ID, IPP_SESSION_KEY, and
for --mpi the launcher's OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK or SLURM_PROCID.
`
}
