package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"ipcluster/cluster"
	"ipcluster/internal/shellquote"
	"ipcluster/launchers"
)

// dryRun prints what `start` would write and submit (or run), and does none of it.
func dryRun(ctx context.Context, opts cluster.Options) error {
	planned, err := cluster.DryRun(ctx, opts)
	if err != nil {
		return err
	}
	writeDryRun(os.Stdout, planned)
	fmt.Fprintln(os.Stderr, "dry run: nothing was written, submitted or started")
	return nil
}

// writeDryRun shows each plan: a batch launcher's files and submit command line, or a process
// launcher's command lines with where and how many times each runs. Command lines are argv
// quoted for a POSIX shell: pasted into one, they run the same program with the same
// arguments.
func writeDryRun(w io.Writer, planned []cluster.Planned) {
	for _, p := range planned {
		if p.Script != nil {
			writeScript(w, p)
			continue
		}
		total, hosts := 0, 0
		for _, r := range p.Runs {
			total += r.Count
			if r.Host != "" {
				hosts++
			}
		}
		what := count(total, "process", "processes")
		if p.Role == launchers.Engines && p.Launcher == "mpi" {
			what = count(p.Request.N, "engine", "engines") + " (MPI ranks of one mpiexec)"
		} else if p.Role == launchers.Engines {
			what = count(total, "engine", "engines")
		}
		if hosts > 0 {
			what += " on " + count(hosts, "host", "hosts")
		}
		fmt.Fprintf(w, "# %s (%s launcher): %s\n", p.Role, p.Launcher, what)
		for _, r := range p.Runs {
			where := "this machine"
			if r.Host != "" {
				where = r.Host
			}
			fmt.Fprintf(w, "# on %s, %s running:\n", where, count(r.Count, "process", "processes"))
			if len(r.Env) > 0 {
				fmt.Fprintf(w, "#   with %s added to the environment\n", envText(r.Env))
			}
			for _, f := range r.Send {
				fmt.Fprintf(w, "#   after copying %s to %s:%s\n", f.From, r.Host, f.To)
			}
			for _, f := range r.Fetch {
				fmt.Fprintf(w, "#   then fetching %s:%s to %s\n", r.Host, f.From, f.To)
			}
			fmt.Fprintln(w, shellquote.Join(r.Argv))
		}
		fmt.Fprintln(w)
	}
}

func writeScript(w io.Writer, p cluster.Planned) {
	s := p.Script
	where := ""
	if s.Host != "" {
		where = " on login host " + s.Host
	}
	for _, f := range s.Files {
		fmt.Fprintf(w, "# %s (%s): %s%s\n%s", p.Role, p.Launcher, f.Path, where, f.Text)
		if !strings.HasSuffix(f.Text, "\n") {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	for _, f := range s.Stage {
		fmt.Fprintf(w, "# %s: copies %s to the same path%s (once the controller wrote it)\n", p.Role, f, where)
	}
	submit := shellquote.Join(s.Submit)
	if len(s.SubmitEnv) > 0 {
		submit = envText(s.SubmitEnv) + " " + submit
	}
	if s.Stdin {
		submit += " < " + shellquote.Quote(s.Files[0].Path)
	}
	fmt.Fprintf(w, "# %s submit command%s:\n%s\n\n", p.Role, where, submit)
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// envText is K=V ... sorted by name, each quoted for the shell.
func envText(env map[string]string) string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = shellquote.Quote(k + "=" + env[k])
	}
	return strings.Join(keys, " ")
}
