package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"ipcluster/cluster"
	"ipcluster/launchers"
	"ipcluster/profiles"
)

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:      "stop",
		Usage:     "stop a running cluster (from any shell)",
		ArgsUsage: "[CLUSTER_ID ...]",
		Flags:     append(profileFlags(), &cli.BoolFlag{Name: "all", Usage: "stop every cluster of the profile"}),
		Action: func(c *cli.Context) error {
			dir := profileDir(c)
			var paths []string
			switch {
			case c.Bool("all"):
				paths, _ = cluster.Files(dir)
			case c.NArg() > 0:
				for _, id := range c.Args().Slice() {
					paths = append(paths, cluster.FilePath(dir, id))
				}
			default:
				paths = []string{cluster.FilePath(dir, c.String("cluster-id"))}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			stopped := 0
			var errs []error
			for _, p := range paths {
				f, err := cluster.ReadFile(p)
				if errors.Is(err, os.ErrNotExist) {
					continue
				}
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if err := cluster.StopFile(ctx, f, launchers.Builtin()); err != nil {
					errs = append(errs, fmt.Errorf("stop %s: %w", p, err))
					continue
				}
				if f.Cluster.ExternalController {
					fmt.Printf("stopped the engines of cluster %q (%s); its controller was not started by ipcluster and keeps running\n",
						f.Cluster.ClusterID, filepath.Base(dir))
				} else {
					fmt.Printf("stopped cluster %q (%s)\n", f.Cluster.ClusterID, filepath.Base(dir))
				}
				stopped++
			}
			if len(errs) > 0 {
				return errors.Join(errs...)
			}
			if stopped == 0 {
				return fmt.Errorf("%w in %s", cluster.ErrNotRunning, dir)
			}
			return nil
		},
	}
}

func cleanCommand() *cli.Command {
	return &cli.Command{
		Name:  "clean",
		Usage: "remove cluster files, connection files and logs of stopped clusters",
		Flags: append(profileFlags(),
			&cli.BoolFlag{Name: "force", Usage: "stop running clusters first"},
			&cli.BoolFlag{Name: "all", Usage: "clean every profile of the IPython directory"},
			&cli.BoolFlag{Name: "jobs", Usage: "instead: show, then cancel, batch jobs named for a cluster whose cluster file is gone (--cluster-id: only that cluster's)"}),
		Action: func(c *cli.Context) error {
			if c.Bool("jobs") {
				return cleanJobs(c)
			}
			dirs := []string{profileDir(c)}
			if c.Bool("all") {
				ipdir := c.String("ipython-dir")
				if ipdir == "" {
					ipdir = profiles.IPythonDir()
				}
				dirs, _ = cluster.Profiles(ipdir)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			for _, dir := range dirs {
				if err := cluster.Clean(ctx, dir, c.Bool("force"), launchers.Builtin()); err != nil {
					return err
				}
				fmt.Printf("cleaned %s\n", dir)
			}
			return nil
		},
	}
}
