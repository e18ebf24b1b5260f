package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"ipcluster/cluster"
)

func enginesCommand() *cli.Command {
	return &cli.Command{
		Name:  "engines",
		Usage: "add an engine set to a running cluster, or to a controller started by hand",
		Description: "With a cluster file (from `ipcluster start`), the engines join that cluster. Without one, they\n" +
			"join the controller whose engine connection file the profile holds (ipyparallel's recipe:\n" +
			"`ipcontroller` by hand, then `ipcluster engines --n=4`); `ipcluster list` shows them and\n" +
			"`ipcluster stop` stops them, never that controller.",
		Flags: append(profileFlags(),
			&cli.IntFlag{Name: "n", Usage: "number of engines", Value: 1},
			&cli.StringFlag{Name: "engines", Usage: "engine launcher: " + joinNames()},
			engineKindFlag(),
			&cli.StringFlag{Name: "work-dir", Usage: "working directory of the engines"},
			&cli.DurationFlag{Name: "timeout", Usage: "how long to wait for the engines to register", Value: startFlagTimeout},
		),
		Action: func(c *cli.Context) error {
			opts, err := clusterOptions(c)
			if err != nil {
				return err
			}
			ctx, stop := signalContext()
			defer stop()
			opts.Progress = progressPrinter(c.App.ErrWriter)
			cl, err := cluster.Attach(ctx, opts)
			if err != nil {
				return err
			}
			id, err := cl.AddEngines(ctx, c.Int("n"))
			if err != nil {
				return err
			}
			fmt.Printf("engine set %s: %d engines registered\n", id, c.Int("n"))
			if cl.File().Cluster.ExternalController {
				fmt.Printf("recorded in %s; `ipcluster stop` stops these engines, not the controller ipcluster did not start\n", cl.File().Path())
			}
			return nil
		},
	}
}
