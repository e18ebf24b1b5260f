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
			"`ipcluster stop` stops them, never that controller. How many: as for `ipcluster start`, -n, else\n" +
			"c.Cluster.n (or c.IPClusterEngines.n), else an SSH engines dict's size, else 4.",
		Flags: enginesFlags(),
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
			defer cl.Close() // the cluster runs on; this command is done with it
			id, err := cl.AddEngines(ctx, opts.N)
			if err != nil {
				return err
			}
			fmt.Printf("engine set %s: %d engines registered\n", id, cl.File().Engines.Sets[id].N)
			if cl.File().Cluster.ExternalController {
				fmt.Printf("recorded in %s; `ipcluster stop` stops these engines, not the controller ipcluster did not start\n", cl.File().Path())
			}
			return nil
		},
	}
}

// enginesFlags are start's flags that make sense for engines joining a running controller
// (the settings declared for `engines`).
func enginesFlags() []cli.Flag {
	return append(append(profileFlags(), settingFlagsOf("engines")...),
		&cli.StringFlag{Name: "work-dir", Usage: "working directory of the engines"},
	)
}
