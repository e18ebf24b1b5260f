package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"ipcluster/cluster"
	"ipcluster/profiles"
)

func profileCommand() *cli.Command {
	return &cli.Command{
		Name:  "profile",
		Usage: "create, list and locate profiles",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "create a profile with commented config files listing every option",
				ArgsUsage: "NAME",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "ipython-dir"}, &cli.StringFlag{Name: "profile-dir"}, &cli.BoolFlag{Name: "force", Usage: "overwrite existing config files"}},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 && c.String("profile-dir") == "" {
						return fmt.Errorf("usage: ipcluster profile create NAME")
					}
					dir := profiles.Locate(c.String("ipython-dir"), c.Args().First(), c.String("profile-dir"))
					if err := profiles.Dir(dir).Ensure(); err != nil {
						return err
					}
					for name, text := range configFiles() {
						path := filepath.Join(dir, name)
						if _, err := os.Stat(path); err == nil && !c.Bool("force") {
							fmt.Printf("kept existing %s\n", path)
							continue
						}
						if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
							return err
						}
						fmt.Printf("wrote %s\n", path)
					}
					return nil
				},
			},
			{
				Name:  "list",
				Usage: "list the profiles of the IPython directory",
				Flags: []cli.Flag{&cli.StringFlag{Name: "ipython-dir"}},
				Action: func(c *cli.Context) error {
					ipdir := c.String("ipython-dir")
					if ipdir == "" {
						ipdir = profiles.IPythonDir()
					}
					dirs, err := cluster.Profiles(ipdir)
					if err != nil {
						return err
					}
					fmt.Printf("profiles in %s:\n", ipdir)
					for _, d := range dirs {
						fmt.Println("  " + strings.TrimPrefix(filepath.Base(d), "profile_"))
					}
					return nil
				},
			},
			{
				Name:      "locate",
				Usage:     "print the directory of a profile",
				ArgsUsage: "[NAME]",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "ipython-dir"}},
				Action: func(c *cli.Context) error {
					fmt.Println(profiles.Locate(c.String("ipython-dir"), c.Args().First(), ""))
					return nil
				},
			},
		},
	}
}
