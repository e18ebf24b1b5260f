package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"ipcluster/internal/wait"
	"ipcluster/launchers"
	"ipcluster/profiles"
	"ipcluster/runtime/client"
)

// Errors that ipcluster maps to ipyparallel's exit codes.
var (
	ErrAlreadyRunning = errors.New("cluster already running")
	ErrNotRunning     = errors.New("no cluster running")
)

// Cluster is a started (or loaded) cluster.
type Cluster struct {
	opts       Options
	file       *File
	ls         *launcherSet // the launchers it started with, kept to watch and stop them
	controller launchers.Launcher
	engines    map[string]launchers.Launcher // by set id
}

// File returns the cluster file.
func (c *Cluster) File() *File { return c.file }

// Start starts the controller, waits for its connection files, starts the engines and waits
// for them to register, reporting progress. If anything fails, or ctx ends (Ctrl-C),
// everything started so far is stopped and the cluster file removed.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	if _, err := opts.ChooseEngine(); err != nil {
		return nil, err
	}
	opts.setDefaults()
	dir := profiles.Dir(opts.ProfileDir)
	if err := dir.Ensure(); err != nil {
		return nil, err
	}
	path := FilePath(opts.ProfileDir, opts.ClusterID)
	unlock, err := lockCluster(opts.ProfileDir, opts.ClusterID)
	if errors.Is(err, errLocked) {
		return nil, fmt.Errorf("%w: another `ipcluster start` is starting cluster %q in %s (%v)", ErrAlreadyRunning, opts.ClusterID, opts.ProfileDir, err)
	}
	if err != nil {
		return nil, err
	}
	defer unlock() // held until the controller and engines run (or all is stopped again)
	old, err := ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		if procs := liveProcessesOf(opts.ProfileDir, opts.ClusterID); len(procs) > 0 { // a damaged file of a live cluster
			return nil, fmt.Errorf("%w: %s cannot be read (%v), but processes of cluster %q run: %v (stop them, or `ipcluster clean --force`)",
				ErrAlreadyRunning, path, err, opts.ClusterID, procs)
		}
	}
	if err == nil {
		prev := newLauncherSet(opts.Launchers, nil)
		defer prev.close()
		if running, _ := old.controllerRunning(ctx, prev); running {
			if old.Cluster.ExternalController {
				return nil, fmt.Errorf("%w: %s has engines beside a controller ipcluster did not start (add engines with `ipcluster engines`, "+
					"or stop them with `ipcluster stop` and the controller yourself)", ErrAlreadyRunning, path)
			}
			return nil, fmt.Errorf("%w: %s (stop it with `ipcluster stop`)", ErrAlreadyRunning, path)
		}
		opts.Log.Warn("removing the file of a cluster that is no longer running", "file", path)
		stopFile(ctx, old, prev)
	}
	removeConnectionFiles(opts.ProfileDir, opts.ClusterID) // stale ones would be mistaken for the new controller's
	c = &Cluster{opts: opts, ls: newLauncherSet(opts.Launchers, opts.Settings), engines: map[string]launchers.Launcher{}, file: &File{
		path: path,
		Cluster: Settings{ClusterID: opts.ClusterID, ProfileDir: opts.ProfileDir, N: opts.N, ControllerArgs: nonNil(opts.ControllerArgs),
			ControllerIP: opts.ControllerIP, ControllerLocation: opts.ControllerLocation, Delay: opts.Delay, Class: "ipcluster-go", PID: os.Getpid()},
		Engines: EngineSets{Class: opts.EngineLauncher, Sets: map[string]*launchers.Handle{}},
	}}
	defer func() {
		if err != nil {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			c.Stop(stopCtx)
		}
	}()
	if err := c.file.Save(); err != nil {
		return c, err
	}
	if err := c.startController(ctx); err != nil {
		return c, err
	}
	if opts.Delay > 0 {
		select {
		case <-time.After(time.Duration(opts.Delay * float64(time.Second))):
		case <-ctx.Done():
			return c, context.Cause(ctx)
		}
	}
	if opts.N == 0 { // -n 0: the controller alone, as ipyparallel's
		return c, nil
	}
	if _, err := c.AddEngines(ctx, opts.N); err != nil {
		return c, err
	}
	return c, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (c *Cluster) clusterArgs() []string {
	return []string{"--profile-dir", c.opts.ProfileDir, "--cluster-id", c.opts.ClusterID}
}

func (c *Cluster) env() map[string]string {
	return map[string]string{"IPP_PROFILE_DIR": c.opts.ProfileDir, "IPP_CLUSTER_ID": c.opts.ClusterID}
}

func (c *Cluster) request(role launchers.Role, n int, command []string, setID string) launchers.Request {
	return launchers.Request{Role: role, N: n, Command: command, Env: c.env(), WorkDir: c.opts.WorkDir,
		ProfileDir: c.opts.ProfileDir, ClusterID: c.opts.ClusterID, SetID: setID, LogDir: profiles.Dir(c.opts.ProfileDir).Log()}
}

// controllerCommand is the controller's command line for launcher l: the Cluster settings
// it takes (controller_ip, controller_location: see controllerOptions), then
// controller_args and the arguments given after --.
func (c *Cluster) controllerCommand(l launchers.Launcher) []string {
	cmd := append(append([]string(nil), c.opts.ControllerCmd...), c.clusterArgs()...)
	s := c.opts.ClusterSettings
	if r, ok := l.(launchers.Remote); ok && r.Remote() && s.ControllerIP == "" {
		s.ControllerIP = "*" // the node it will run on is not known yet
	}
	return append(append(cmd, controllerOptions(s)...), c.opts.ControllerArgs...)
}

// engineCommand is each engine's command line.
func (c *Cluster) engineCommand() []string {
	return append(append(append([]string(nil), c.opts.EngineCmd...), c.clusterArgs()...), c.opts.EngineArgs...)
}

func (c *Cluster) startController(ctx context.Context) error {
	l, err := c.ls.get(c.opts.ControllerLauncher)
	if err != nil {
		return err
	}
	c.controller = l
	h, err := l.Start(ctx, c.request(launchers.Controller, 1, c.controllerCommand(l), ""))
	if err != nil {
		return fmt.Errorf("start controller: %w", err)
	}
	c.file.Controller = &LauncherState{Class: l.Name(), State: h}
	if err := c.file.Save(); err != nil {
		return err
	}
	return c.waitForConnectionFiles(ctx, h)
}

// waitForConnectionFiles waits until the controller has written both files, and fails at
// once if it stops first.
func (c *Cluster) waitForConnectionFiles(ctx context.Context, h *launchers.Handle) error {
	deadline := time.Now().Add(c.opts.ControllerTimeout)
	fetcher, remote := c.controller.(launchers.Fetcher)
	return wait.Until(ctx, 25*time.Millisecond, func() (bool, error) {
		if remote { // a controller on another host: copy its files back first
			if err := fetcher.FetchFiles(ctx, h); err != nil {
				return false, fmt.Errorf("fetch the controller's connection files: %w", err)
			}
		}
		ready := profiles.ConnectionFilesWritten(c.opts.ProfileDir, c.opts.ClusterID)
		st, err := c.controller.Status(ctx, h)
		if err != nil {
			return false, err
		}
		c.opts.Progress(Progress{Step: "controller", Controller: st, ControllerJobs: h.JobIDs, Requested: c.opts.N})
		if st.Phase == launchers.Pending {
			deadline = time.Now().Add(c.opts.ControllerTimeout) // time in the queue does not count
		}
		if ready && st.Phase == launchers.Running {
			return true, nil
		}
		if st.Phase == launchers.Done || st.Phase == launchers.Failed {
			return false, fmt.Errorf("the controller stopped before writing its connection files: %s\n%s", reason(st), controllerHint(reason(st)))
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("the controller wrote no connection files within %v (waited for %s)%s", c.opts.ControllerTimeout,
				profiles.ConnectionFile(c.opts.ProfileDir, c.opts.ClusterID, "client"), lastOutput(h))
		}
		return false, nil
	})
}

// controllerHint says where the settings behind a controller's start failure live.
func controllerHint(reason string) string {
	if strings.Contains(reason, "cannot bind") {
		return "hint: the controller binds the address of `ipcluster start --ip` (c.IPController.ip) and the ports of " +
			"c.IPController.ports in ipcontroller_config.py; --ip='*' listens on every interface of its host"
	}
	return "hint: the controller's command line is in the cluster file; run it by hand with --log-level=DEBUG to see more"
}

// lastOutput is the end of a local controller's output, for a controller that neither
// started nor stopped in time (a batch or remote one reports its own output in its state).
func lastOutput(h *launchers.Handle) string {
	for _, p := range h.Processes {
		if p.Output == "" || p.Host != "" {
			continue
		}
		data, err := os.ReadFile(p.Output)
		if err != nil || len(strings.TrimSpace(string(data))) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		return "; last lines of " + p.Output + ":\n" + strings.Join(lines[max(0, len(lines)-5):], "\n")
	}
	return ""
}

func reason(st launchers.State) string {
	if st.Reason != "" {
		return st.Reason
	}
	return "it exited"
}

// AddEngines starts an engine set of n engines (or, with SizeByLauncher, as many as the
// launcher says) and waits for them to register.
func (c *Cluster) AddEngines(ctx context.Context, n int) (string, error) {
	if n < 1 {
		return "", fmt.Errorf("no engines to add: n is %d (-n, c.Cluster.n)", n)
	}
	l, err := c.ls.get(c.opts.EngineLauncher)
	if err != nil {
		return "", err
	}
	choice, err := c.opts.ChooseEngine()
	if err != nil {
		return "", err
	}
	setID := newSetID()
	req := c.engineRequest(l, n, setID) // after the choice: the command depends on it
	c.opts.Progress(Progress{Step: "engine-kind", Note: choice.String(), Requested: req.N})
	cl, err := client.Connect(ctx, client.Options{ProfileDir: c.opts.ProfileDir, ClusterID: c.opts.ClusterID, ConnectTimeout: 10 * time.Second})
	if err != nil {
		return "", fmt.Errorf("connect to the controller: %w", err)
	}
	defer cl.Close()
	before := len(cl.IDs())
	h, err := l.Start(ctx, req)
	if err != nil {
		return "", fmt.Errorf("start engines: %w", err)
	}
	c.engines[setID] = l
	c.file.Engines.Class = l.Name()
	c.file.Engines.Sets[setID] = h
	if choice.Kind != "" {
		if c.file.Engines.Kinds == nil {
			c.file.Engines.Kinds = map[string]string{}
		}
		c.file.Engines.Kinds[setID] = choice.Kind
	}
	if err := c.file.Save(); err != nil {
		return setID, err
	}
	if c.opts.EngineTimeout == 0 {
		return setID, nil
	}
	// h.N: a launcher may start fewer (an SSH dict smaller than n)
	if err := c.waitForEngines(ctx, cl, l, h, before+h.N); err != nil {
		c.dropSet(ctx, setID, l, h) // no engines left behind that nobody waits for
		return setID, err
	}
	return setID, nil
}

// dropSet stops an engine set that failed to come up and forgets it; the file of engines
// beside a controller ipcluster did not start goes once it records none.
func (c *Cluster) dropSet(ctx context.Context, setID string, l launchers.Launcher, h *launchers.Handle) {
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := l.Stop(stopCtx, h); err != nil {
		c.opts.Log.Warn("stop the engine set that failed", "set", setID, "err", err)
		return // keep it in the file: `ipcluster stop` can try again
	}
	delete(c.file.Engines.Sets, setID)
	delete(c.file.Engines.Kinds, setID)
	if c.file.Cluster.ExternalController && len(c.file.Engines.Sets) == 0 {
		c.file.Remove()
		return
	}
	c.file.Save()
}

// waitForEngines reports progress until want engines are registered; it fails fast when the
// engines stop before registering, with their output and a hint.
func (c *Cluster) waitForEngines(ctx context.Context, cl *client.Client, l launchers.Launcher, h *launchers.Handle, want int) error {
	deadline := time.Now().Add(c.opts.EngineTimeout)
	last := Progress{Registered: -1}
	return wait.Until(ctx, 25*time.Millisecond, func() (bool, error) {
		registered := len(cl.IDs())
		st, err := l.Status(ctx, h)
		if err != nil {
			return false, err
		}
		p := Progress{Step: "engines", Engines: st, EngineJobs: h.JobIDs, Registered: registered, Requested: want}
		if registered >= want {
			p.Step = "ready"
		}
		if p.Registered != last.Registered || p.Engines.Phase != last.Engines.Phase || p.Engines.Reason != last.Engines.Reason || p.Step == "ready" {
			c.opts.Progress(p)
			last = p
		}
		if registered >= want {
			return true, nil
		}
		if st.Phase == launchers.Failed || st.Phase == launchers.Done {
			return false, fmt.Errorf("engines stopped before registering (%d of %d registered): %s\nhint: the engines look for the controller through %s; "+
				"if they run on other hosts, start the cluster with --ip='*'", registered, want, reason(st),
				profiles.ConnectionFile(c.opts.ProfileDir, c.opts.ClusterID, "engine"))
		}
		if c.controller != nil {
			if cst, err := c.controller.Status(ctx, c.file.Controller.State); err == nil && cst.Phase != launchers.Running {
				return false, fmt.Errorf("the controller stopped while engines were registering: %s", reason(cst))
			}
		} else if closed(cl.Done()) { // a controller ipcluster did not start announced its shutdown
			return false, fmt.Errorf("the controller stopped while engines were registering (it was not started by ipcluster)")
		}
		if st.Phase == launchers.Pending {
			deadline = time.Now().Add(c.opts.EngineTimeout) // time in the queue does not count
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("only %d of %d engines registered within %v (engine launcher state: %s %s)", registered, want, c.opts.EngineTimeout, st.Phase, st.Reason)
		}
		return false, nil
	})
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func removeConnectionFiles(profileDir, clusterID string) {
	for _, role := range []string{"client", "engine"} {
		os.Remove(profiles.ConnectionFile(profileDir, clusterID, role))
	}
}

// describe renders a launcher state for messages.
func describe(st launchers.State) string {
	s := string(st.Phase)
	if st.Reason != "" {
		s += " (" + strings.SplitN(st.Reason, "\n", 2)[0] + ")"
	}
	return s
}
