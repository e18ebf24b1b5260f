// Command ipcontroller is a Go drop-in for ipyparallel's ipcontroller: the real Python Client
// and engines (7.x-9.x) work with it unchanged. It accepts ipyparallel's command line
// (--profile, --cluster-id ”, --ping=250, --Class.trait=value, ...) and environment
// (IPP_PROFILE_DIR, IPP_CLUSTER_ID, IPP_SESSION_KEY).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"syscall"

	"ipcluster/internal/fdlimit"
	"ipcluster/internal/version"
	"ipcluster/profiles"
	"ipcluster/runtime/controller"
	"ipcluster/runtime/transport"
)

func main() {
	transport.OneProcessor()
	os.Exit(run(os.Args[1:]))
}

func run(argv []string) int {
	if slices.Contains(argv, "--version") {
		fmt.Println(version.Line("ipcontroller", transport.Backend()))
		return 0
	}
	args, err := profiles.ParseArgs(argv, options)
	if errors.Is(err, profiles.ErrHelp) {
		fmt.Print(usage())
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ipcontroller: %v\n", err)
		return 2
	}
	cfg, logClose, err := controller.Configure(args, os.Getenv, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ipcontroller: %v\n", err)
		return 2
	}
	defer logClose()
	reportLimit := raiseOpenFiles()
	c, err := controller.New(cfg)
	if err != nil {
		// One line on stderr, which is what ipcluster shows; a log file gets it as well.
		if args.Has("log-to-file") {
			cfg.Logger.Error("cannot start", "err", err)
		}
		fmt.Fprintf(os.Stderr, "ipcontroller: %v\n", err)
		return 1
	}
	reportLimit(cfg.Logger) // after New: a bind error stays the one line on stderr
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGABRT)
	defer stop()
	// For performance work: IPCONTROLLER_CPUPROFILE=file writes a pprof CPU profile on exit.
	if path := os.Getenv("IPCONTROLLER_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	// IPCONTROLLER_MEMPROFILE=file writes a pprof heap profile on exit.
	if path := os.Getenv("IPCONTROLLER_MEMPROFILE"); path != "" {
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if err := c.Run(ctx); err != nil {
		cfg.Logger.Error("stopped with an error", "err", err)
		return 1
	}
	return 0
}

// raiseOpenFiles lifts the open-file limit to the hard one (each engine holds eight
// connections) before any socket exists, and returns what reports it: how many engines
// fit, and a warning saying what to raise when fewer than wantEngines do.
func raiseOpenFiles() func(*slog.Logger) {
	const wantEngines = 1000
	l, err := fdlimit.Raise()
	return func(log *slog.Logger) {
		switch {
		case err != nil:
			log.Warn("cannot raise the open-file limit; engines beyond it cannot connect", "err", err, "room_for_engines", l.Engines())
		case l.Check(wantEngines, "the controller") != nil:
			log.Warn("open-file limit too low for a large cluster", "err", l.Check(wantEngines, "the controller"))
		default:
			log.Info("open-file limit", "soft", l.Soft, "hard", l.Hard, "room_for_engines", l.Engines())
		}
	}
}

func usage() string {
	return `ipcontroller: the Go IPython-Parallel controller (hub and schedulers in one process).

Engines and clients find it through the connection files it writes into
<profile_dir>/security/ipcontroller[-<cluster_id>]-{client,engine}.json once its sockets are bound,
and its process id into <profile_dir>/pid/ipcontroller[-<cluster_id>].pid. A socket it cannot bind
(address not on this host, port in use) is a one-line error and exit status 1, with no files written.
--version names the ZeroMQ transport it was built with. It stops on SIGINT/SIGTERM or when a client calls Client.shutdown(hub=True), and removes those
files (the connection files unless --reuse was given), and any dask scheduler started for
Client.become_dask().

Options:
` + profiles.Usage(options) + `
` + traitHelp() + `

Environment: IPYTHONDIR, IPP_PROFILE_DIR, IPP_CLUSTER_ID, IPP_SESSION_KEY (the HMAC key).
`
}
