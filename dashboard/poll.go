package dashboard

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"ipcluster/runtime/client"
)

// maxProbes bounds the probes outstanding at once.
const maxProbes = 32

// stopWindow: engines that left this shortly before their cluster was seen stopped (the
// controller announced its shutdown, or the cluster file went) went with it.
const stopWindow = 15 * time.Second

// controllerLoop keeps a connection to the controller (reconnecting when it is lost, for a
// controller that restarts or is not up yet) and polls it every Refresh.
func (c *Collector) controllerLoop(ctx context.Context) {
	for ctx.Err() == nil {
		src, err := c.cfg.connect(ctx)
		if err != nil {
			c.mu.Lock()
			c.ctl = ControllerState{Error: err.Error()}
			c.disconnectedLocked(time.Now())
			c.publishLocked()
			c.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * c.cfg.Refresh):
			}
			continue
		}
		c.serve(ctx, src)
		src.close()
	}
}

// disconnectedLocked: without a controller every engine is gone from view; those known are
// kept, as lost (or stopped), with what was last known of them.
func (c *Collector) disconnectedLocked(now time.Time) {
	c.tracker.update(nil, now)
	c.hist.reset()
	c.queue = Queue{}
}

// serve polls one connection until it is lost or ctx ends.
func (c *Collector) serve(ctx context.Context, src controllerSource) {
	c.mu.Lock()
	c.ctl = ControllerState{Connected: true}
	c.hist.reset()
	c.mu.Unlock()
	sem := make(chan struct{}, maxProbes)
	var probes sync.WaitGroup
	defer probes.Wait()
	t := time.NewTicker(c.cfg.Refresh)
	defer t.Stop()
	for tick := 0; ; tick++ {
		c.pollEngines(ctx, src)
		c.startProbes(ctx, src, sem, &probes)
		if tick%2 == 0 { // the task records every other refresh: they cost the controller more
			c.pollRecords(ctx, src)
		}
		select {
		case <-ctx.Done():
			return
		case <-src.done():
			// A controller that announced its shutdown was stopped on purpose (ipcluster
			// stop, Client.shutdown), and its engines with it.
			_, _, err := src.engines(ctx)
			shutdown := errors.Is(err, client.ErrControllerShutdown)
			c.mu.Lock()
			c.ctl = ControllerState{Error: "connection to the controller lost"}
			if shutdown {
				c.ctl.Error = "the controller shut down"
				c.tracker.stoppedWithCluster(time.Now().Add(-stopWindow), true, "stopped with the cluster")
			}
			c.disconnectedLocked(time.Now())
			c.publishLocked()
			c.mu.Unlock()
			return
		case <-t.C:
		}
	}
}

func (c *Collector) pollEngines(ctx context.Context, src controllerSource) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	reports, unassigned, err := src.engines(qctx)
	cancel()
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setErr("controller", err)
	if err != nil {
		return
	}
	c.tracker.update(reports, now)
	completed := make(map[int]int, len(reports))
	q := Queue{Unassigned: unassigned}
	busy := 0
	for _, r := range reports {
		completed[r.ID] = r.Completed
		q.Assigned += r.Running + r.Queued
		q.Completed += r.Completed
		if r.Running+r.Queued > 0 {
			busy++
		}
	}
	c.queue = q
	c.hist.add(now, completed, q.Unassigned+q.Assigned, busy)
	c.publishLocked()
}

// startProbes sends kernel_info to the engines due for one, at most maxProbes at a time, on
// goroutines of their own: a dead engine, which never answers, holds up nothing but its slot
// until the probe times out.
func (c *Collector) startProbes(ctx context.Context, src controllerSource, sem chan struct{}, wg *sync.WaitGroup) {
	c.mu.Lock()
	ids := c.tracker.dueProbes(time.Now(), c.cfg.LostAfter/3)
	c.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, id := range ids {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				pctx, cancel := context.WithTimeout(ctx, 2*c.cfg.LostAfter)
				a, err := src.probe(pctx, id)
				cancel()
				c.mu.Lock()
				defer c.mu.Unlock()
				if err != nil {
					c.tracker.probeDone(id, nil, time.Now())
					return
				}
				c.tracker.probeDone(id, &a, time.Now())
			}()
		}
	}()
}

func (c *Collector) pollRecords(ctx context.Context, src controllerSource) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := c.recs.poll(qctx, src)
	cancel()
	if errors.Is(err, context.Canceled) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setErr("task records", err)
	// The records' state is the controller goroutine's; the view gets a copy.
	c.failures = slices.Clone(c.recs.failures)
	c.failedBy = maps.Clone(c.recs.failed)
	c.current = c.recs.current
	c.publishLocked()
}
