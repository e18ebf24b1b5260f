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
	"slices"
	"syscall"

	"ipcluster/internal/version"
	"ipcluster/profiles"
	"ipcluster/runtime/engine"
	"ipcluster/runtime/transport"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // no controller, registration refused, controller gone, unregistered by it
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
	if slices.Contains(argv, "--version") {
		fmt.Fprintln(stdout, version.Line("ipengine", transport.Backend()))
		return exitOK
	}
	args, err := profiles.ParseArgs(argv, engine.Options())
	if errors.Is(err, profiles.ErrHelp) {
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "ipengine: %v\n", err)
		return exitUsage
	}
	s, closeLog, err := engine.Configure(args, getenv, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ipengine: %v\n", err)
		return exitUsage
	}
	defer closeLog()
	log := s.Config.Logger
	s.Source.SessionKey = getenv("IPP_SESSION_KEY") // the file's key wins, as in ipyparallel
	info, where, err := s.Source.Load(ctx)
	if err != nil {
		if !errors.Is(err, engine.ErrBadConnectionInfo) { // that one is said once, below
			log.Error("no controller", "err", err)
		}
		fmt.Fprintf(stderr, "ipengine: %v\n", err)
		return exitError
	}
	log.Info("using connection info", "from", where, "transport", transport.Backend())
	s.Config.Info, s.Config.InfoFrom = info, where
	if self, err := os.Executable(); err == nil {
		s.Config.GuardProgram = self
	}
	e, err := engine.New(s.Config)
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
