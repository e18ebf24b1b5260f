package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"ipcluster/runtime/client"
)

func pxCommand() *cli.Command {
	return &cli.Command{
		Name:      "px",
		Usage:     "run a shell command on the engines of a running cluster",
		ArgsUsage: "-- COMMAND [ARG...]",
		Description: "Each engine's output is printed with its id in front. The exit status is non-zero if the\n" +
			"command failed on any engine. One argument is run as a shell command line as is; several\n" +
			"are quoted and joined.",
		Flags: append(profileFlags(),
			&cli.StringFlag{Name: "targets", Usage: "engine ids, e.g. 0,2 (default: all)"},
			&cli.DurationFlag{Name: "timeout", Value: 0, Usage: "give up after this long (default: wait)"}),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return fmt.Errorf("no command: ipcluster px -- hostname")
			}
			code := c.Args().First()
			if c.NArg() > 1 {
				code = shellJoin(c.Args().Slice())
			}
			ctx, stop := signalContext()
			defer stop()
			if d := c.Duration("timeout"); d > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
			}
			cl, err := client.Connect(ctx, client.Options{ProfileDir: profileDir(c), ClusterID: c.String("cluster-id"), ConnectTimeout: 10 * time.Second})
			if err != nil {
				return err
			}
			defer cl.Close()
			var targets []int
			if t := c.String("targets"); t != "" {
				for _, s := range strings.Split(t, ",") {
					id, err := strconv.Atoi(strings.TrimSpace(s))
					if err != nil {
						return fmt.Errorf("--targets: %q is not an engine id", s)
					}
					targets = append(targets, id)
				}
			} else {
				targets = cl.IDs()
			}
			if len(targets) == 0 {
				return fmt.Errorf("the cluster has no engines")
			}
			results, err := cl.Execute(ctx, targets, code)
			failed := 0
			for _, r := range results {
				prefix := fmt.Sprintf("[%d] ", r.EngineID)
				printPrefixed(os.Stdout, prefix, r.Stdout)
				printPrefixed(os.Stderr, prefix, r.Stderr)
				if r.Err != nil {
					failed++
					fmt.Fprintf(os.Stderr, "%s%v\n", prefix, r.Err)
				}
			}
			if err != nil && failed == 0 {
				return err
			}
			if failed > 0 {
				return cli.Exit(fmt.Sprintf("failed on %d of %d engines", failed, len(targets)), 1)
			}
			return nil
		},
	}
}

func printPrefixed(w *os.File, prefix, text string) {
	if text == "" {
		return
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		if line != "" {
			fmt.Fprint(w, prefix+line)
		}
	}
	if !strings.HasSuffix(text, "\n") {
		fmt.Fprintln(w)
	}
}

// shellJoin quotes arguments for /bin/sh.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}
