package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"ipcluster/profiles"
	"ipcluster/runtime/client"
)

// plan is what one swarm measurement does.
type plan struct {
	n          int
	regTimeout time.Duration // the storm's deadline: all registered within it, or "did not finish"
	idle       time.Duration // window for the controller's idle (heartbeat) CPU
	tasks      int           // load-balanced tasks over all engines (0: skip)
	pid        int           // the controller's process id, for its CPU and memory (0: unknown)
	log        *slog.Logger
}

// figures are one measurement's results.
type figures struct {
	n, registered int
	register      time.Duration // first engine started to all registered (or the deadline)
	lost          int           // engines that stopped by themselves (refused, timed out, dropped)
	lostWhy       error
	rssBase       int64   // controller memory before the storm
	rssPerEngine  float64 // bytes of controller memory per registered engine
	idleCPU       float64 // fraction of one core the controller uses with every engine idle
	broadcast     time.Duration
	bcastFailed   int
	tasksPerSec   float64
	done          bool // every step finished
	note          string
}

// measure connects a client, storms the controller with p.n swarm engines, and measures
// registration, idle heartbeat CPU, memory, a broadcast execute and load-balanced tasks;
// progress lines go to out ("registered N/N in S s" as soon as that is so).
func measure(ctx context.Context, info profiles.EngineInfo, clientFile string, p plan, out io.Writer) (f figures, err error) {
	f.n = p.n
	c, err := client.Connect(ctx, client.Options{ConnectionFile: clientFile, ConnectTimeout: 30 * time.Second})
	if err != nil {
		return f, fmt.Errorf("connect a client: %w", err)
	}
	defer c.Close()
	f.rssBase = treeUsage(p.pid).rss

	start := time.Now()
	s, err := startSwarm(info, p.n, p.regTimeout, p.log)
	if err != nil {
		return f, err
	}
	defer s.stop()
	regCtx, cancel := context.WithTimeout(ctx, p.regTimeout)
	ids, err := c.WaitForEngines(regCtx, p.n)
	cancel()
	f.register, f.registered = time.Since(start), len(ids)
	f.lost, f.lostWhy = s.failures()
	if err != nil {
		if ctx.Err() != nil {
			return f, ctx.Err()
		}
		f.note = fmt.Sprintf("registration did not finish: %d/%d registered after %.1f s (%d with an id)",
			f.registered, p.n, f.register.Seconds(), s.registered())
		fmt.Fprintf(out, "%s\n", f.note)
		return f, nil
	}
	fmt.Fprintf(out, "registered %d/%d in %.2f s\n", f.registered, p.n, f.register.Seconds())

	if p.pid > 0 {
		u0 := treeUsage(p.pid)
		f.rssPerEngine = float64(u0.rss-f.rssBase) / float64(p.n)
		select { // a measuring window, not a wait for readiness
		case <-time.After(p.idle):
		case <-ctx.Done():
			return f, ctx.Err()
		}
		u1 := treeUsage(p.pid)
		f.idleCPU = (u1.cpu - u0.cpu).Seconds() / p.idle.Seconds()
		fmt.Fprintf(out, "controller memory %.1f KB per engine (%.1f MB before the engines, %.1f MB with them); idle CPU %.1f%% of one core over %s\n",
			f.rssPerEngine/1024, float64(f.rssBase)/(1<<20), float64(u0.rss)/(1<<20), 100*f.idleCPU, p.idle)
	}

	t0 := time.Now()
	futs, err := c.BroadcastAsync(ctx, nil, "echo hello")
	if err != nil {
		return f, fmt.Errorf("broadcast: %w", err)
	}
	results, err := client.WaitAll(ctx, futs)
	f.broadcast = time.Since(t0)
	for _, r := range results {
		if r.Err != nil || r.Stdout != "hello\n" {
			f.bcastFailed++
		}
	}
	if ctx.Err() != nil {
		return f, ctx.Err()
	}
	fmt.Fprintf(out, "broadcast execute to %d engines answered in %.2f s (%d failed)\n", len(futs), f.broadcast.Seconds(), f.bcastFailed)
	if err != nil && f.bcastFailed == 0 {
		return f, fmt.Errorf("broadcast: %w", err)
	}

	if p.tasks > 0 {
		if f.tasksPerSec, err = throughput(ctx, c, p.tasks); err != nil {
			return f, err
		}
		fmt.Fprintf(out, "%d load-balanced tasks over %d engines: %.0f tasks/s\n", p.tasks, p.n, f.tasksPerSec)
	}
	if n, why := s.failures(); n > 0 {
		f.lost, f.lostWhy = n, why
		fmt.Fprintf(out, "%d engines stopped by themselves; the first because: %v\n", n, why)
	}
	f.done = true
	return f, nil
}

// throughput submits n tasks at once (all outstanding together) and returns tasks per
// second from the first submission to the last result.
func throughput(ctx context.Context, c *client.Client, n int) (float64, error) {
	t0 := time.Now()
	futs := make([]*client.Future, n)
	for i := range futs {
		f, err := c.Submit(ctx, "true", client.TaskOptions{})
		if err != nil {
			return 0, fmt.Errorf("submit task %d: %w", i, err)
		}
		futs[i] = f
	}
	for i, f := range futs {
		if _, err := f.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("task %d of %d: %w", i, n, err)
		}
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

// errDidNotFinish marks a controller that did not get through a measurement in time.
var errDidNotFinish = errors.New("did not finish")
