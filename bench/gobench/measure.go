package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"syscall"
	"time"

	"ipcluster/runtime/client"
	"ipcluster/runtime/client/clienttest"
)

// config is what one measurement needs.
type config struct {
	tasks   int // empty-code tasks for throughput
	rtt     int // sequential single tasks for the round trip
	engines int
	engine  clienttest.Kind
	keep    bool // keep the working directory (logs) of each cluster
	log     *slog.Logger
}

// sample is one run's figures through one controller.
type sample struct {
	tasksPerSec float64
	rtt         time.Duration // median round trip of one task
	register    time.Duration // controller start to all engines registered
	// processor time per task during the throughput measurement
	cpuController, cpuEngines, cpuClient time.Duration
}

// pingArg shortens the controllers' heartbeat (3 s by default, which makes engines take
// ~6 s to register with the Python controller); it does not touch the task path measured.
const pingArg = "--ping=500"

// setup is a controller and the task database it keeps records in.
type setup struct {
	kind clienttest.Kind
	db   string // dict or sqlite
}

// dbArgs are the controller options of each task database (a fresh file each run for SQLite).
var dbArgs = map[string]string{"dict": "--dictdb", "sqlite": "--sqlitedb"}

// measure starts a cluster with the given controller, measures it, and stops it.
func measure(ctx context.Context, cfg config, st setup) (s sample, err error) {
	kind := st.kind
	dir, err := os.MkdirTemp("", "gobench-"+string(kind)+"-")
	if err != nil {
		return s, err
	}
	cl, err := clienttest.New(dir, "bench")
	if err != nil {
		return s, err
	}
	defer func() {
		if stopErr := cl.Stop(); stopErr != nil {
			cfg.log.Warn("cluster stop", "controller", kind, "err", stopErr)
		}
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, cl.Logs())
		}
		if cfg.keep || err != nil {
			cfg.log.Info("logs kept", "dir", dir)
		} else {
			os.RemoveAll(dir)
		}
	}()

	start := time.Now()
	if _, err := cl.StartController(ctx, kind, pingArg, dbArgs[st.db]); err != nil {
		return s, err
	}
	if _, err := cl.StartEngines(cfg.engine, cfg.engines); err != nil {
		return s, err
	}
	c, err := client.Connect(ctx, client.Options{ProfileDir: cl.ProfileDir, ClusterID: cl.ClusterID})
	if err != nil {
		return s, err
	}
	defer c.Close()
	if _, err := c.WaitForEngines(ctx, cfg.engines); err != nil {
		return s, fmt.Errorf("%w (processes: %v)", err, cl.CheckAlive())
	}
	s.register = time.Since(start)

	if _, err := throughput(ctx, c, min(cfg.tasks, 200)); err != nil { // warm up both sides
		return s, err
	}
	ctl0, eng0 := cl.CPU()
	self0 := selfCPU()
	if s.tasksPerSec, err = throughput(ctx, c, cfg.tasks); err != nil {
		return s, err
	}
	ctl1, eng1 := cl.CPU()
	perTask := func(d time.Duration) time.Duration { return d / time.Duration(cfg.tasks) }
	s.cpuController, s.cpuEngines, s.cpuClient = perTask(ctl1-ctl0), perTask(eng1-eng0), perTask(selfCPU()-self0)
	if s.rtt, err = roundTrip(ctx, c, cfg.rtt); err != nil {
		return s, err
	}
	return s, nil
}

// throughput submits n empty-code tasks at once (pipelined: all outstanding together) and
// returns tasks per second from the first submission to the last result.
func throughput(ctx context.Context, c *client.Client, n int) (float64, error) {
	t0 := time.Now()
	futs := make([]*client.Future, n)
	for i := range futs {
		f, err := c.Submit(ctx, "", client.TaskOptions{})
		if err != nil {
			return 0, err
		}
		futs[i] = f
	}
	for i, f := range futs {
		if r, err := f.Wait(ctx); err != nil {
			return 0, fmt.Errorf("task %d of %d: %w (result %+v)", i, n, err, r)
		}
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

// roundTrip runs n empty-code tasks one after the other and returns the median time from
// submission to result.
func roundTrip(ctx context.Context, c *client.Client, n int) (time.Duration, error) {
	times := make([]time.Duration, n)
	for i := range times {
		t0 := time.Now()
		f, err := c.Submit(ctx, "", client.TaskOptions{})
		if err != nil {
			return 0, err
		}
		if _, err := f.Wait(ctx); err != nil {
			return 0, fmt.Errorf("round trip %d: %w", i, err)
		}
		times[i] = time.Since(t0)
	}
	return medianDuration(times), nil
}

// selfCPU is the processor time this process (the client) has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func medianDuration(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianFloat(f []float64) float64 {
	if len(f) == 0 {
		return 0
	}
	s := slices.Clone(f)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
