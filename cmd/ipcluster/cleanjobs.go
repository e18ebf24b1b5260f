package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"ipcluster/cluster"
	"ipcluster/launchers"
	"ipcluster/profiles"
)

// cleanJobs finds the batch jobs that carry a cluster id whose cluster file is gone in every
// profile of the IPython directory, shows them, and cancels them.
func cleanJobs(c *cli.Context) error {
	ipdir := c.String("ipython-dir")
	if ipdir == "" {
		ipdir = profiles.IPythonDir()
	}
	dirs, _ := cluster.Profiles(ipdir)
	dirs = append(dirs, profileDir(c))
	only := ""
	if c.IsSet("cluster-id") {
		only = c.String("cluster-id")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	reg := launchers.Builtin()
	orphans, err := cluster.OrphanJobs(ctx, reg, dirs, only)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ipcluster: warning: %v\n", err)
	}
	if len(orphans) == 0 {
		fmt.Println("no jobs of vanished clusters found")
		return nil
	}
	fmt.Println("jobs of clusters whose cluster file is gone:")
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "LAUNCHER\tJOB ID\tNAME\tSTATE\tCLUSTER ID")
	for _, o := range orphans {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", o.Launcher, o.ID, o.Name, o.State, o.ClusterID)
	}
	w.Flush()
	if err := cluster.CancelOrphans(ctx, reg, orphans); err != nil {
		return err
	}
	fmt.Printf("cancelled %d job(s)\n", len(orphans))
	return nil
}
