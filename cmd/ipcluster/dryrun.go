package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"ipcluster/cluster"
	"ipcluster/templates"
)

// dryRun prints what `start` would write and submit (or run), and does none of it.
func dryRun(ctx context.Context, opts cluster.Options) error {
	planned, err := cluster.DryRun(ctx, opts)
	if err != nil {
		return err
	}
	for _, p := range planned {
		if p.Script == nil {
			fmt.Printf("# %s (%s launcher, %d process(es)) would run:\n%s\n\n", p.Role, p.Launcher, p.N, templates.ShellJoin(p.Command))
			continue
		}
		for _, f := range p.Script.Files {
			fmt.Printf("# %s (%s): %s\n%s", p.Role, p.Launcher, f.Path, f.Text)
			if !strings.HasSuffix(f.Text, "\n") {
				fmt.Println()
			}
			fmt.Println()
		}
		submit := templates.ShellJoin(p.Script.Submit)
		if p.Script.Stdin {
			submit += " < " + templates.ShellQuote(p.Script.Files[0].Path)
		}
		fmt.Printf("# %s submit command:\n%s\n\n", p.Role, submit)
	}
	fmt.Fprintln(os.Stderr, "dry run: nothing was written, submitted or started")
	return nil
}
