package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"ipcluster/dashboard"
	"ipcluster/dashboard/top"
)

func topCommand() *cli.Command {
	return &cli.Command{
		Name:  "top",
		Usage: "show a cluster's engines, jobs and task flow in the terminal, refreshed live (q quits)",
		Description: "The dashboard's data as a terminal screen, for a login node without port forwarding.\n" +
			"↑/↓ scroll the engines; q quits. Plain text without colour, readable at 80x24.",
		Flags: viewFlags(),
		Action: func(c *cli.Context) error {
			if !term.IsTerminal(int(os.Stdin.Fd())) || !term.IsTerminal(int(os.Stdout.Fd())) {
				return fmt.Errorf("ipcluster top needs a terminal; for scripts, `ipcluster list -o json` or the JSON of `ipcluster dashboard`")
			}
			cfg, err := viewConfig(c)
			if err != nil {
				return err
			}
			cfg.ReadOnly = true
			col := dashboard.NewCollector(cfg)
			ctx, stop := signalContext()
			defer stop()
			go col.Run(ctx)
			return top.Run(ctx, col, os.Stdin, os.Stdout)
		},
	}
}
