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
		Flags: enginesFlags(),
		Action: func(c *cli.Context) error {
			opts, err := clusterOptions(c)
			if err != nil {
				return err
			}
			// -n, else c.Cluster.n or c.IPClusterEngines.n, as ipyparallel's
			// IPClusterEngines.n (whose default is 1 here: one more engine).
			n := opts.N
			if n <= 0 {
				n = enginesDefaultN
			}
			ctx, stop := signalContext()
			defer stop()
			opts.Progress = progressPrinter(c.App.ErrWriter)
			cl, err := cluster.Attach(ctx, opts)
			if err != nil {
				return err
			}
			defer cl.Close() // the cluster runs on; this command is done with it
			id, err := cl.AddEngines(ctx, n)
			if err != nil {
				return err
			}
			fmt.Printf("engine set %s: %d engines registered\n", id, n)
			if cl.File().Cluster.ExternalController {
				fmt.Printf("recorded in %s; `ipcluster stop` stops these engines, not the controller ipcluster did not start\n", cl.File().Path())
			}
			return nil
		},
	}
}

// enginesDefaultN is how many engines `ipcluster engines` starts when neither -n nor the
// configuration says.
const enginesDefaultN = 1

// enginesFlags are start's flags that make sense for engines joining a running controller.
func enginesFlags() []cli.Flag {
	flags := aliasFlags("n", "engines", "engine-kind", "timeout")
	n := flags[0].(*cli.StringFlag)
	n.DefaultText = fmt.Sprintf("the configured n, else %d", enginesDefaultN)
	kind := flags[2].(*cli.StringFlag)
	kind.Usage += "; here auto means the kind of the cluster's engines"
	return append(append(profileFlags(), flags...),
		&cli.StringFlag{Name: "work-dir", Usage: "working directory of the engines"},
	)
}
