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
				Flags: []cli.Flag{&cli.StringFlag{Name: "ipython-dir"}, &cli.StringFlag{Name: "profile-dir"},
					&cli.StringFlag{Name: "profile", Usage: "profile name (instead of NAME, as `ipython profile create --profile=NAME`)"},
					&cli.BoolFlag{Name: "force", Usage: "overwrite existing config files"},
					// IPython's `ipython profile create --parallel` adds the parallel config files;
					// here they are all there is, so the flag is accepted and changes nothing.
					&cli.BoolFlag{Name: "parallel", Usage: "accepted for `ipython profile create --parallel`; the parallel config files are always written"}},
				Action: func(c *cli.Context) error {
					name, err := profileCreateName(c)
					if err != nil {
						return err
					}
					dir := profiles.Locate(c.String("ipython-dir"), name, c.String("profile-dir"))
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

// profileCreateName is the NAME of `profile create`: the argument, or --profile. A
// --parallel written after NAME (where the flag parser no longer looks) is accepted too.
func profileCreateName(c *cli.Context) (string, error) {
	var args []string
	for _, a := range c.Args().Slice() {
		if a != "--parallel" {
			args = append(args, a)
		}
	}
	if c.IsSet("profile") {
		args = append(args, c.String("profile"))
	}
	switch {
	case len(args) == 1:
		return args[0], nil
	case len(args) == 0 && c.String("profile-dir") != "":
		return "", nil
	}
	return "", fmt.Errorf("usage: ipcluster profile create [--parallel] NAME (or --profile=NAME, or --profile-dir=DIR); got %d names", len(args))
}
