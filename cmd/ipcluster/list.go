package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"ipcluster/cluster"
	"ipcluster/launchers"
	"ipcluster/profiles"
)

func listCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list clusters with their live state",
		Flags: append(profileFlags(), &cli.StringFlag{Name: "o", Aliases: []string{"output"}, Value: "text", Usage: "text or json"}),
		Action: func(c *cli.Context) error {
			var dirs []string
			if c.IsSet("profile") || c.IsSet("profile-dir") {
				dirs = []string{profileDir(c)}
			} else {
				ipdir := c.String("ipython-dir")
				if ipdir == "" {
					ipdir = profiles.IPythonDir()
				}
				dirs, _ = cluster.Profiles(ipdir)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			reg := launchers.Builtin()
			statuses := []cluster.Status{}
			for _, dir := range dirs {
				paths, _ := cluster.Files(dir)
				for _, p := range paths {
					f, err := cluster.ReadFile(p)
					if err != nil {
						fmt.Fprintf(os.Stderr, "ipcluster: skipping unreadable %s: %v\n", p, err)
						continue
					}
					st := cluster.Inspect(ctx, f, reg)
					st.Profile = strings.TrimPrefix(filepath.Base(dir), "profile_")
					statuses = append(statuses, st)
				}
			}
			switch c.String("o") {
			case "json":
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(statuses)
			case "text":
				w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "PROFILE\tCLUSTER ID\tCONTROLLER\tENGINES\tLAUNCHER\tPIDS/JOBS\tJOB STATES")
				for _, s := range statuses {
					engines := "?"
					if s.Registered != nil {
						engines = fmt.Sprint(*s.Registered)
					}
					ids := s.PIDList()
					if len(s.JobIDs) > 0 {
						ids = strings.Join(s.JobIDs, ",")
					}
					var states []string
					for _, j := range s.Jobs {
						states = append(states, j.ID+":"+j.State)
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s/%d\t%s\t%s\t%s\n", s.Profile, orDash(s.ClusterID), s.Controller, engines, s.Requested, s.Launcher, ids,
						strings.Join(states, " "))
				}
				return w.Flush()
			}
			return fmt.Errorf("-o %s: choose text or json", c.String("o"))
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "''"
	}
	return s
}
