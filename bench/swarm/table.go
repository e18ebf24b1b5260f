package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"ipcluster/internal/fdlimit"
	"ipcluster/profiles"
	"ipcluster/runtime/client/clienttest"
)

// tableConfig is a --table run: each controller kind at each size, runs times.
type tableConfig struct {
	sizes []int
	kinds []clienttest.Kind
	runs  int
	plan  plan
	limit fdlimit.Limit
}

// runTable measures every size with every controller and prints one row each (medians
// of the runs, and the spread of the registration times, since the machine may be shared).
func runTable(ctx context.Context, cfg tableConfig, out io.Writer) error {
	fmt.Fprintf(out, "engine swarm: N engines connecting at once (one process, real protocol, no fork); %d run(s) each, medians; "+
		"idle CPU over %s; %d load-balanced tasks; open-file limit %d (room for %d engines per process)\n\n",
		cfg.runs, cfg.plan.idle, cfg.plan.tasks, cfg.limit.Soft, cfg.limit.Engines())
	fmt.Fprintf(out, "%-10s %6s %11s %10s %11s %9s %11s %9s   %s\n", "controller", "N", "registered", "seconds",
		"KB/engine", "idle CPU", "broadcast", "tasks/s", "runs: registration s")
	var last figures
	for _, n := range cfg.sizes {
		for _, kind := range cfg.kinds {
			if err := cfg.limit.Check(n, "each side (swarm and controller)"); err != nil {
				fmt.Fprintf(out, "%-10s %6d not possible on this machine: %v\n", label(kind), n, err)
				continue
			}
			var samples []figures
			for range cfg.runs {
				f, err := measureWith(ctx, kind, n, cfg.plan)
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if err != nil {
					f.note = err.Error()
				}
				samples = append(samples, f)
				if !f.done {
					break // a controller that did not finish once is not run again at this size
				}
			}
			m := median(samples)
			printRow(out, kind, m, samples)
			if kind == clienttest.Go {
				last = m
			}
		}
	}
	fmt.Fprintln(out)
	if last.n > 0 {
		printGoals(out, last)
	}
	return nil
}

// measureWith starts a controller of kind, measures n swarm engines against it, and stops it.
func measureWith(ctx context.Context, kind clienttest.Kind, n int, p plan) (f figures, err error) {
	f.n = n
	dir, err := os.MkdirTemp("", "swarm-"+string(kind)+"-")
	if err != nil {
		return f, err
	}
	cl, err := clienttest.New(dir, "swarm")
	if err != nil {
		return f, err
	}
	defer func() {
		cl.Stop()
		if err == nil && f.done {
			os.RemoveAll(dir)
		} else {
			p.log.Error("logs kept", "dir", dir)
		}
	}()
	// The whole measurement is bounded: the storm by p.regTimeout, the rest by as much again
	// plus the idle window and a minute per 10,000 tasks.
	limit := 2*p.regTimeout + p.idle + time.Duration(p.tasks/10000+1)*time.Minute
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	proc, err := cl.StartController(ctx, kind)
	if err != nil {
		return f, err
	}
	p.n, p.pid = n, proc.Pid()
	var info profiles.EngineInfo
	if err := profiles.ReadJSON(profiles.ConnectionFile(cl.ProfileDir, cl.ClusterID, "engine"), &info); err != nil {
		return f, err
	}
	f, err = measure(ctx, info, cl.ClientFile(), p, io.Discard)
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w within %s", errDidNotFinish, limit)
	}
	return f, err
}

func label(kind clienttest.Kind) string {
	if kind == clienttest.Go {
		return "ours"
	}
	return "Python"
}

// median takes each figure's median over the finished samples (or the last sample when
// none finished).
func median(samples []figures) figures {
	var done []figures
	for _, s := range samples {
		if s.done {
			done = append(done, s)
		}
	}
	if len(done) == 0 {
		return samples[len(samples)-1]
	}
	m := done[0]
	pick := func(get func(figures) float64) float64 {
		v := make([]float64, len(done))
		for i, s := range done {
			v[i] = get(s)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	m.register = time.Duration(pick(func(f figures) float64 { return float64(f.register) }))
	m.rssPerEngine = pick(func(f figures) float64 { return f.rssPerEngine })
	m.idleCPU = pick(func(f figures) float64 { return f.idleCPU })
	m.broadcast = time.Duration(pick(func(f figures) float64 { return float64(f.broadcast) }))
	m.tasksPerSec = pick(func(f figures) float64 { return f.tasksPerSec })
	return m
}

func printRow(w io.Writer, kind clienttest.Kind, m figures, samples []figures) {
	var each []string
	for _, s := range samples {
		each = append(each, fmt.Sprintf("%.2f", s.register.Seconds()))
	}
	reg := fmt.Sprintf("%d/%d", m.registered, m.n)
	if !m.done {
		fmt.Fprintf(w, "%-10s %6d %11s %10.2f   did not finish: %s\n", label(kind), m.n, reg, m.register.Seconds(), m.note)
		return
	}
	fmt.Fprintf(w, "%-10s %6d %11s %10.2f %11.1f %8.1f%% %10.2fs %9.0f   %s\n", label(kind), m.n, reg, m.register.Seconds(),
		m.rssPerEngine/1024, 100*m.idleCPU, m.broadcast.Seconds(), m.tasksPerSec, strings.Join(each, " "))
}
