// Command ipcluster starts, watches, stops and cleans up IPython-Parallel clusters: a
// controller and engines, locally, under MPI, or (with the batch and SSH launchers) on
// clusters. Its subcommands, flags, profile directories and exit codes follow ipyparallel's
// ipcluster, so existing profiles and habits carry over.
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/urfave/cli/v2"

	"ipcluster/cluster"
	"ipcluster/internal/version"
	"ipcluster/profiles"
	"ipcluster/runtime/transport"
)

// Exit codes of ipyparallel's ipcluster.
const (
	exitAlreadyStarted = 10
	exitAlreadyStopped = 11
)

func main() {
	app := &cli.App{
		Name:  "ipcluster",
		Usage: "start, watch and stop IPython-Parallel clusters",
		Description: "A cluster is a controller and its engines. `ipcluster start -n 4` runs one on this machine;\n" +
			"`--engines=mpi` starts engines with mpiexec. The engines are ipyparallel's Python engines where a\n" +
			"python3 with ipyparallel is found, else the Go engine, which runs shell commands (--engine-kind,\n" +
			"c.Cluster.engine_kind). Profiles live in $IPYTHONDIR/profile_<name>\n" +
			"(default ~/.ipython/profile_default); ipcluster_config.py there is read as ipyparallel reads it,\n" +
			"and any --Class.trait=value argument (e.g. --MPILauncher.mpi_args=\"['--oversubscribe']\") overrides it.",
		Commands:       []*cli.Command{startCommand(), enginesCommand(), stopCommand(), listCommand(), cleanCommand(), profileCommand(), pxCommand(), mapCommand()},
		ExitErrHandler: func(*cli.Context, error) {},
	}
	app.Commands = append(app.Commands, dashboardCommand(), topCommand()) // the live views (dashboard.go, top.go)
	// --version names the ZeroMQ transport too (ipcluster talks to the controller for px, list, engines).
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version and the ZeroMQ transport"}
	cli.VersionPrinter = func(*cli.Context) { fmt.Println(version.Line("ipcluster", transport.Backend())) }
	app.Version = version.String()
	argv, traits, err := splitTraits(os.Args)
	if err != nil {
		os.Exit(report(err))
	}
	app.Metadata = map[string]any{"traits": traits}
	if err := app.Run(argv); err != nil {
		os.Exit(report(err))
	}
}

// report prints an error and picks the exit code.
func report(err error) int {
	var exit cli.ExitCoder
	fmt.Fprintf(os.Stderr, "ipcluster: %v\n", err)
	switch {
	case errors.Is(err, cluster.ErrAlreadyRunning):
		return exitAlreadyStarted
	case errors.Is(err, cluster.ErrNotRunning):
		return exitAlreadyStopped
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	return 1
}

// profileFlags select a profile and cluster, as in every ipyparallel app.
func profileFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "profile", Usage: "profile name", Value: "default"},
		&cli.StringFlag{Name: "profile-dir", Usage: "profile directory (overrides --profile)", EnvVars: []string{"IPP_PROFILE_DIR"}},
		&cli.StringFlag{Name: "ipython-dir", Usage: "IPython directory (default $IPYTHONDIR or ~/.ipython)"},
		&cli.StringFlag{Name: "cluster-id", Usage: "cluster id (several clusters can share a profile)", EnvVars: []string{"IPP_CLUSTER_ID"}},
		&cli.StringFlag{Name: "log-level", Usage: "DEBUG, INFO, WARN (default), ERROR or 10-50", Value: "WARN"},
		&cli.BoolFlag{Name: "debug", Usage: "same as --log-level=DEBUG"},
	}
}

func profileDir(c *cli.Context) string {
	return profiles.Locate(c.String("ipython-dir"), c.String("profile"), c.String("profile-dir"))
}

func logger(c *cli.Context) *slog.Logger {
	level, err := profiles.ParseLogLevel(c.String("log-level"))
	if err != nil {
		level = slog.LevelWarn
	}
	if c.Bool("debug") {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
