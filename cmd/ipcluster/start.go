package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"ipcluster/cluster"
	"ipcluster/internal/wait"
	"ipcluster/launchers"
	"ipcluster/runtime/transport"
	"ipcluster/traitconfig"
)

func startFlags() []cli.Flag {
	return append(append(profileFlags(), settingFlagsOf("start")...),
		&cli.StringFlag{Name: "work-dir", Usage: "working directory of the controller and engines"},
		&cli.BoolFlag{Name: "daemonize", Usage: "return once the engines are registered and leave the cluster running"},
		&cli.BoolFlag{Name: "dry-run", Usage: "print the batch scripts and submit commands (or the commands) without submitting or starting anything"},
	)
}

func startCommand() *cli.Command {
	return &cli.Command{
		Name:  "start",
		Usage: "start a controller and engines",
		Description: "Starts the controller, waits for its connection files, starts the engines and shows them\n" +
			"registering. In the foreground it runs until Ctrl-C (or SIGTERM) and then stops everything;\n" +
			"with --daemonize it returns once the engines are registered. Arguments after -- go to the controller.",
		Flags:  startFlags(),
		Action: start,
	}
}

// signalContext ends on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

func clusterOptions(c *cli.Context) (cluster.Options, error) {
	opts, cfg, err := loadOptions(c)
	if err != nil {
		return opts, err
	}
	if c.IsSet("work-dir") {
		opts.WorkDir = c.String("work-dir")
	}
	if err := cluster.ApplyLauncherConfig(cfg, launchers.Builtin(), &opts); err != nil {
		return opts, err
	}
	traits, _ := c.App.Metadata["traits"].([]traitconfig.Trait)
	_, controllerArgs, engineArgs := forwardedTraits(traits)
	opts.ControllerArgs = append(append(opts.ControllerArgs, controllerArgs...), c.Args().Slice()...)
	opts.EngineArgs = append(opts.EngineArgs, engineArgs...)
	return opts, nil
}

func start(c *cli.Context) error {
	opts, err := clusterOptions(c)
	if err != nil {
		return err
	}
	if _, err := opts.ChooseEngine(); err != nil { // a bad engine kind: before anything starts
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	if c.Bool("dry-run") {
		choice, _ := opts.ChooseEngine()
		fmt.Fprintln(os.Stderr, "engines: "+choice.String())
		return dryRun(ctx, opts)
	}
	logger(c).Info("starting the cluster", "transport", transport.Backend())
	opts.Progress = progressPrinter(os.Stderr)
	cl, err := cluster.Start(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			return cli.Exit("interrupted: everything started so far was stopped", 130)
		}
		return err
	}
	f := cl.File()
	if c.Bool("daemonize") {
		defer cl.Close() // the cluster runs on; this process is done with it
		f.Cluster.PID = 0
		if err := f.Save(); err != nil {
			return err
		}
		fmt.Printf("Leaving cluster running: %s\n", f.Path())
		return nil
	}
	fmt.Fprintf(os.Stderr, "cluster %q running (%s); press Ctrl-C to stop it\n", f.Cluster.ClusterID, f.Path())
	watchErr := watch(ctx, cl)
	stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fmt.Fprintln(os.Stderr, "stopping the cluster")
	if err := cl.Stop(stopCtx); err != nil {
		return err
	}
	return watchErr
}

// watch waits for a signal, or for the controller to stop on its own (then the cluster is
// over: e.g. a client called shutdown(hub=True)). It asks the launcher that started the
// controller, which keeps its connection (an SSH controller is not dialled every tick).
func watch(ctx context.Context, cl *cluster.Cluster) error {
	stopped := wait.Until(ctx, 500*time.Millisecond, func() (bool, error) {
		running, _ := cl.ControllerRunning(ctx)
		return !running, nil
	})
	if stopped == nil { // not ended by Ctrl-C or SIGTERM
		fmt.Fprintln(os.Stderr, "the controller has stopped")
	}
	return nil
}
