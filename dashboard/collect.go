package dashboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"ipcluster/cluster"
	"ipcluster/dashboard/mapstatus"
	"ipcluster/launchers"
	"ipcluster/runtime/client"
)

// Config says which cluster to watch and how often.
type Config struct {
	ProfileDir string
	ClusterID  string
	Registry   *launchers.Registry // the launchers that read the cluster file's sets
	Logger     *slog.Logger

	Refresh         time.Duration // how often the controller is asked (default 1 s)
	LauncherRefresh time.Duration // how often the launchers and the scheduler are asked (default 3 s)
	LostAfter       time.Duration // an engine silent this long is shown lost (default 6 s)
	Window          time.Duration // how much throughput history the charts show (default 10 min)

	ReadOnly bool
	Actions  Actions

	// connect opens the controller connection (tests replace it).
	connect func(ctx context.Context) (controllerSource, error)
}

func (c *Config) setDefaults() {
	if c.Refresh <= 0 {
		c.Refresh = time.Second
	}
	if c.LauncherRefresh <= 0 {
		c.LauncherRefresh = 3 * time.Second
	}
	if c.LostAfter <= 0 {
		c.LostAfter = 6 * time.Second
	}
	if c.Window <= 0 {
		c.Window = 10 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Registry == nil {
		c.Registry = launchers.Builtin()
	}
	if c.connect == nil {
		c.connect = func(ctx context.Context) (controllerSource, error) {
			cl, err := client.Connect(ctx, client.Options{ProfileDir: c.ProfileDir, ClusterID: c.ClusterID,
				ConnectTimeout: 5 * time.Second, Logger: c.Logger})
			if err != nil {
				return nil, err
			}
			return clientSource{cl}, nil
		}
	}
}

// Collector keeps the latest View of a cluster and tells subscribers when it changes.
type Collector struct {
	cfg Config

	mu       sync.Mutex
	tracker  *tracker
	hist     *history
	recs     *taskRecords // the controller goroutine's own
	failures []Failure
	failedBy map[string]int    // engine uuid -> failures seen in the records
	current  map[string]string // engine uuid -> the task it runs
	queue    Queue
	ctl      ControllerState
	status   *cluster.Status
	jobs     []Job
	sets     []setInfo
	maps     []MapRun
	errs     map[string]string // what could not be read, by part
	subs     map[chan View]struct{}
	version  int
	launched bool // the launchers have been read once
}

// NewCollector makes a collector; Run makes it collect.
func NewCollector(cfg Config) *Collector {
	cfg.setDefaults()
	now := time.Now()
	return &Collector{cfg: cfg, tracker: newTracker(cfg.LostAfter), hist: newHistory(cfg.Window),
		recs: newTaskRecords(now), errs: map[string]string{}, subs: map[chan View]struct{}{}}
}

// Run collects until ctx ends.
func (c *Collector) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.launcherLoop(ctx) }()
	go func() { defer wg.Done(); c.controllerLoop(ctx) }()
	wg.Wait()
}

// Subscribe returns a channel that holds the latest View whenever it changes (older ones are
// dropped for a slow reader), and a function that ends the subscription.
func (c *Collector) Subscribe() (<-chan View, func()) {
	ch := make(chan View, 1)
	c.mu.Lock()
	c.subs[ch] = struct{}{}
	ch <- c.viewLocked(time.Now())
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		delete(c.subs, ch)
		c.mu.Unlock()
	}
}

// View is the current state.
func (c *Collector) View() View {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.viewLocked(time.Now())
}

// publish hands the current View to every subscriber. Call with mu held.
func (c *Collector) publishLocked() {
	if len(c.subs) == 0 {
		return
	}
	v := c.viewLocked(time.Now())
	for ch := range c.subs {
		select {
		case <-ch: // drop the one not yet read
		default:
		}
		ch <- v
	}
}

func (c *Collector) setErr(part string, err error) {
	if err == nil {
		delete(c.errs, part)
		return
	}
	c.errs[part] = fmt.Sprintf("%s: %v", part, err)
}

// launcherLoop reads the cluster file, the launchers' and the scheduler's state, and the
// running maps' progress files.
func (c *Collector) launcherLoop(ctx context.Context) {
	t := time.NewTicker(c.cfg.LauncherRefresh)
	defer t.Stop()
	for {
		c.readLaunchers(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Collector) readLaunchers(ctx context.Context) {
	path := cluster.FilePath(c.cfg.ProfileDir, c.cfg.ClusterID)
	f, err := cluster.ReadFile(path)
	var st *cluster.Status
	var jobs []Job
	var sets []setInfo
	switch {
	case errors.Is(err, os.ErrNotExist):
		err = nil // a controller started by hand has no cluster file; a stopped cluster neither
	case err == nil:
		ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
		s := cluster.Inspect(ictx, f, c.cfg.Registry)
		cancel()
		s.Profile = profileName(c.cfg.ProfileDir)
		st = &s
		jobs, sets = jobsOf(f, s)
	}
	maps := mapRuns(mapstatus.Read(c.cfg.ProfileDir, c.cfg.ClusterID))
	c.mu.Lock()
	defer c.mu.Unlock()
	if st == nil && c.status != nil && err == nil {
		// The cluster file went: `ipcluster stop` removes it once it has stopped everything
		// (engines the dashboard has not yet seen leave too: the controller, stopped meanwhile,
		// no longer answers).
		c.tracker.stoppedWithCluster(time.Now().Add(-stopWindow), true, "stopped with the cluster")
	}
	c.setErr("cluster file", err)
	c.status, c.jobs, c.sets, c.maps, c.launched = st, jobs, sets, maps, true
	c.publishLocked()
}

func profileName(dir string) string {
	base := filepath.Base(dir)
	if len(base) > len("profile_") && base[:len("profile_")] == "profile_" {
		return base[len("profile_"):]
	}
	return base
}

func mapRuns(sts []mapstatus.Status) []MapRun {
	out := make([]MapRun, 0, len(sts))
	for _, s := range sts {
		m := MapRun{Status: s, Rate: s.Rate()}
		if eta, ok := s.ETA(); ok {
			m.ETASeconds = ptr(eta.Seconds())
		}
		out = append(out, m)
	}
	return out
}
