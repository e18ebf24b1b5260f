package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"ipcluster/internal/shellquote"
	"ipcluster/runtime/client"
)

func pxCommand() *cli.Command {
	return &cli.Command{
		Name:      "px",
		Usage:     "run a shell command on the engines of a running cluster",
		ArgsUsage: "-- COMMAND [ARG...]",
		Description: "Each engine's output is printed with its id in front. The exit status is non-zero if the\n" +
			"command failed on any engine. One argument is run as a shell command line as is; several\n" +
			"are quoted and joined. Go engines run it themselves; on ipyparallel's Python engines it runs\n" +
			"in a subprocess, with the same output and errors (each engine is asked which kind it is).",
		Flags: append(profileFlags(),
			&cli.StringFlag{Name: "targets", Usage: "engine ids, e.g. 0,2 (default: all)"},
			&cli.DurationFlag{Name: "timeout", Value: 0, Usage: "give up after this long (default: wait)"},
			&cli.StringFlag{Name: "ssh", Usage: "tunnel to the controller through this ssh server ([user@]host[:port] or an ~/.ssh/config alias; " +
				"default: the client file's ssh when the controller is on another machine)"},
			&cli.StringFlag{Name: "sshkey", Usage: "private key file for the ssh tunnel (tried after ssh-agent's keys)"}),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return fmt.Errorf("no command: ipcluster px -- hostname")
			}
			code := c.Args().First()
			if c.NArg() > 1 {
				code = shellquote.Join(c.Args().Slice())
			}
			ctx, stop := signalContext()
			defer stop()
			if d := c.Duration("timeout"); d > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
			}
			cl, err := client.Connect(ctx, client.Options{ProfileDir: profileDir(c), ClusterID: c.String("cluster-id"), ConnectTimeout: 10 * time.Second,
				SSHServer: c.String("ssh"), SSHKey: c.String("sshkey")})
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
			results, err := runOnEngines(ctx, cl, targets, code, c.String("cluster-id"))
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

// runOnEngines runs a shell command on the targets and waits for all of them. Each engine
// is asked which kind it is (kernel_info, on the control channel): the Go engine runs the
// command itself, ipyparallel's Python engine gets a small program that runs it in a
// subprocess. Asking, rather than trusting what ipcluster recorded at start, works for
// engines started by hand or through engine_cmd, and for clusters mixing both kinds.
func runOnEngines(ctx context.Context, cl *client.Client, targets []int, command, clusterID string) ([]client.Result, error) {
	infos, err := cl.KernelInfo(ctx, targets)
	if err != nil {
		return nil, fmt.Errorf("ask the engines which kind they are: %w", err)
	}
	futs := make([]*client.Future, 0, len(targets))
	var shellTargets []int
	for _, info := range infos {
		if !info.Python() {
			shellTargets = append(shellTargets, info.EngineID)
		}
	}
	var shellFuts []*client.Future
	if len(shellTargets) > 0 {
		if shellFuts, err = cl.ExecuteAsync(ctx, shellTargets, command); err != nil {
			return nil, err
		}
	}
	for _, info := range infos { // in target order
		if !info.Python() {
			futs, shellFuts = append(futs, shellFuts[0]), shellFuts[1:]
			continue
		}
		f, err := cl.ExecuteAsync(ctx, []int{info.EngineID}, pythonPxCode(command, info.EngineID, info.UUID, clusterID))
		if err != nil {
			return nil, err
		}
		futs = append(futs, f[0])
	}
	return client.WaitAll(ctx, futs)
}
