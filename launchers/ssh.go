package launchers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"ipcluster/internal/shellquote"
	"ipcluster/profiles"
	"ipcluster/remote"
)

var (
	sshEngineClasses     = []string{"SSHEngineSetLauncher", "SSHEngineLauncher", "SSHLauncher"}
	sshControllerClasses = []string{"SSHControllerLauncher", "SSHLauncher"}
)

// sshEntries are the SSH launchers.
func sshEntries() []Entry {
	return []Entry{{
		Name:              "ssh",
		Aliases:           []string{"SSHEngineSetLauncher", "SSHControllerLauncher", "SSHEngineLauncher", "SSHLauncher"},
		EngineClasses:     append(append([]string(nil), sshEngineClasses...), "EngineLauncher", "BaseLauncher"),
		ControllerClasses: append(append([]string(nil), sshControllerClasses...), "ControllerLauncher", "BaseLauncher"),
		OptionsClass:      "SSHLauncher",
		Options:           func() any { o := defaultSSHOptions(); return &o },
		New: func(s Settings) (Launcher, error) {
			eng, ctl := defaultSSHOptions(), defaultSSHOptions()
			if s != nil {
				if err := s.Decode(sshEngineClasses, &eng); err != nil {
					return nil, err
				}
				if err := s.Decode(sshControllerClasses, &ctl); err != nil {
					return nil, err
				}
			}
			for _, o := range []SSHOptions{eng, ctl} {
				if _, err := o.connOptions(); err != nil { // reported before anything starts
					return nil, err
				}
			}
			return NewSSH(eng, ctl), nil
		},
	}}
}

// NewSSH is the SSH launcher: engines on the hosts of the engines dict (or n on hostname),
// a controller on hostname. Everything it needs to watch and stop them later is in the
// handle, so a launcher built without options (ipcluster stop) manages them too.
func NewSSH(engines, controller SSHOptions) Launcher {
	return &sshLauncher{opts: map[Role]SSHOptions{Engines: engines, Controller: controller}, pools: map[string]*remote.Pool{},
		recent: map[*Handle]polled{}}
}

type sshLauncher struct {
	opts   map[Role]SSHOptions
	mu     sync.Mutex
	pools  map[string]*remote.Pool // by connection options, so one connection per host
	recent map[*Handle]polled      // the last Status of each handle, reused for pollInterval
}

// pollInterval is the least time between two status commands for one handle: callers poll
// every few milliseconds, and each poll is a command on every host.
const pollInterval = 200 * time.Millisecond

type polled struct {
	at    time.Time
	state State
}

// sshData is the handle's launcher-specific part.
type sshData struct {
	Conn             remote.Options `json:"ssh"`
	RemoteProfileDir string         `json:"remote_profile_dir,omitempty"`
	Fetch            []FilePair     `json:"to_fetch,omitempty"`
	StopTimeout      float64        `json:"stop_timeout,omitempty"` // seconds
	CommandTimeout   float64        `json:"command_timeout,omitempty"`
}

func (l *sshLauncher) Name() string { return "ssh" }

// Size is the engines dict's total.
func (l *sshLauncher) Size() int { return l.opts[Engines].Engines.Total() }

// hostPlan is what to start on one host.
type hostPlan struct {
	host  string
	n     int
	argv  []string
	env   map[string]string
	rpd   string // remote profile dir
	first int    // index of its first process in the handle
}

// plan decides the hosts and command lines. n caps the engines dict's total (hosts in sorted
// order), as in ipyparallel.
func (l *sshLauncher) plan(req Request, o SSHOptions) ([]hostPlan, error) {
	rpd := o.RemoteProfileDir
	if rpd == "" {
		rpd = defaultRemoteProfileDir(req.ProfileDir)
	}
	mk := func(host string, n int, h SSHHost) hostPlan {
		dir := rpd
		if h.RemoteProfileDir != "" {
			dir = h.RemoteProfileDir
		}
		argv := req.Command
		if len(h.EngineCmd) > 0 {
			argv = append(append([]string(nil), h.EngineCmd...), clusterPart(req.Command)...)
		}
		argv = append(append([]string(nil), argv...), h.EngineArgs...)
		return hostPlan{host: host, n: n, argv: replaceDir(argv, req.ProfileDir, dir), env: replaceEnv(req.Env, req.ProfileDir, dir), rpd: dir}
	}
	single := func() (string, error) {
		if o.Hostname == "" {
			return "", fmt.Errorf("ssh %s: no host: set c.SSH%sLauncher.hostname", req.Role, map[Role]string{Controller: "Controller", Engines: "EngineSet"}[req.Role])
		}
		if o.User != "" && !strings.Contains(o.Hostname, "@") {
			return o.User + "@" + o.Hostname, nil
		}
		return o.Hostname, nil
	}
	if req.Role == Controller {
		host, err := single()
		if err != nil {
			return nil, err
		}
		return []hostPlan{mk(host, 1, SSHHost{})}, nil
	}
	if len(o.Engines) == 0 {
		host, err := single()
		if err != nil {
			return nil, fmt.Errorf("%w (or c.SSHEngineSetLauncher.engines)", err)
		}
		return []hostPlan{mk(host, req.N, SSHHost{})}, nil
	}
	var out []hostPlan
	left := req.N
	for _, host := range o.Engines.Hosts() {
		h := o.Engines[host]
		n := min(h.N, left)
		if n <= 0 {
			continue
		}
		left -= n
		out = append(out, mk(host, n, h))
	}
	if len(out) == 0 {
		return nil, errors.New("ssh engines: the engines dict starts no engine")
	}
	return out, nil
}

// defaultRemoteProfileDir is ipyparallel's: the local profile dir, relative to the remote
// home when it is under the local one.
func defaultRemoteProfileDir(local string) string {
	if home, err := os.UserHomeDir(); err == nil {
		if rel, err := filepath.Rel(home, local); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return local
}

// clusterPart is the command after the program: from --profile-dir on.
func clusterPart(argv []string) []string {
	for i, a := range argv {
		if a == "--profile-dir" || strings.HasPrefix(a, "--profile-dir=") {
			return argv[i:]
		}
	}
	return nil
}

func replaceDir(argv []string, local, rdir string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		switch {
		case a == local:
			a = rdir
		case a == "--profile-dir="+local:
			a = "--profile-dir=" + rdir
		}
		out[i] = a
	}
	return out
}

func replaceEnv(env map[string]string, local, rdir string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		if v == local {
			v = rdir
		}
		out[k] = v
	}
	return out
}

func (l *sshLauncher) pool(c remote.Options) *remote.Pool {
	l.mu.Lock()
	defer l.mu.Unlock()
	key, _ := json.Marshal(c)
	p := l.pools[string(key)]
	if p == nil {
		p = remote.NewPool(c)
		l.pools[string(key)] = p
	}
	return p
}

// Close closes the launcher's SSH connections (a later call dials again).
func (l *sshLauncher) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for key, p := range l.pools {
		p.Close()
		delete(l.pools, key)
	}
	return nil
}

// setup is what Start does for a request, decided before connecting anywhere: the hosts and
// their command lines, the files to send to each and the files to fetch back.
type setup struct {
	opts  SSHOptions
	conn  remote.Options
	plans []hostPlan
	send  []FilePair // To "" means the remote security/ directory of each host
	fetch []FilePair
}

func (l *sshLauncher) setup(req Request) (setup, error) {
	o := l.opts[req.Role]
	conn, err := o.connOptions()
	if err != nil {
		return setup{}, err
	}
	plans, err := l.plan(req, o)
	if err != nil {
		return setup{}, err
	}
	s := setup{opts: o, conn: conn, plans: plans, send: o.ToSend}
	if s.send == nil && req.Role == Engines {
		for _, role := range []string{"client", "engine"} {
			s.send = append(s.send, FilePair{profiles.ConnectionFile(req.ProfileDir, req.ClusterID, role), ""})
		}
	}
	if req.Role == Controller {
		s.fetch = o.ToFetch
		if s.fetch == nil {
			for _, role := range []string{"client", "engine"} {
				local := profiles.ConnectionFile(req.ProfileDir, req.ClusterID, role)
				s.fetch = append(s.fetch, FilePair{path.Join(plans[0].rpd, "security", filepath.Base(local)), local})
			}
		}
	}
	return s, nil
}

// sendTo is where a file to send goes on the host of p.
func sendTo(f FilePair, p hostPlan) string {
	if f.To != "" {
		return f.To
	}
	return path.Join(p.rpd, "security", filepath.Base(f.From))
}

// Plan is what Start would do on each host: the command line (run count times there, each
// process detached with its output in the remote log/ directory), the files sent first and,
// for a controller, the files fetched back.
func (l *sshLauncher) Plan(ctx context.Context, req Request) ([]Run, error) {
	s, err := l.setup(req)
	if err != nil {
		return nil, err
	}
	var out []Run
	for _, p := range s.plans {
		run := Run{Host: p.host, Count: p.n, Argv: p.hostArgv(), Fetch: s.fetch}
		for _, f := range s.send {
			run.Send = append(run.Send, FilePair{f.From, sendTo(f, p)})
		}
		out = append(out, run)
	}
	return out, nil
}

// Start connects to every host at once (at most max_parallel), sends the files, starts the
// processes detached and records their pids. If any host fails, what started on the others
// is stopped and every host's error is returned.
func (l *sshLauncher) Start(ctx context.Context, req Request) (*Handle, error) {
	s, err := l.setup(req)
	if err != nil {
		return nil, err
	}
	o, plans := s.opts, s.plans
	d := sshData{Conn: s.conn, StopTimeout: o.StopTimeout.Seconds(), CommandTimeout: o.CommandTimeout.Seconds(), RemoteProfileDir: plans[0].rpd,
		Fetch: s.fetch}
	h := &Handle{Launcher: l.Name(), Role: req.Role}
	for i := range plans {
		plans[i].first = len(h.Processes)
		for j := 0; j < plans[i].n; j++ {
			out := path.Join(plans[i].rpd, "log", remoteLogName(req, plans[i].host, j))
			h.Processes = append(h.Processes, Process{Host: plans[i].host, Output: out})
		}
		h.N += plans[i].n
	}
	if h.Data, err = json.Marshal(d); err != nil {
		return nil, err
	}
	pool := l.pool(s.conn)
	err = remote.ForEach(ctx, plans, o.MaxParallel, func(ctx context.Context, p hostPlan) error {
		ctx, cancel := d.commandContext(ctx)
		defer cancel()
		c, err := pool.Get(ctx, p.host)
		if err != nil {
			return err
		}
		for _, f := range s.send {
			if err := c.Put(ctx, f.From, sendTo(f, p), 0o600, 0o700); err != nil {
				return err
			}
		}
		if req.Role == Controller {
			for _, f := range d.Fetch { // stale files of an earlier run would be fetched as this one's
				c.Run(ctx, "rm -f "+shellquote.Quote(f.From), nil)
			}
		}
		procs := h.Processes[p.first : p.first+p.n]
		return startOnHost(ctx, c, p, procs)
	})
	if err != nil {
		var started []Process
		for _, p := range h.Processes {
			if p.PID > 0 {
				started = append(started, p)
			}
		}
		h.Processes = started
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.StopTimeout+o.CommandTimeout)
		defer cancel()
		if serr := l.Stop(stopCtx, h); serr != nil {
			err = errors.Join(err, fmt.Errorf("stopping what started: %w", serr))
		}
		return nil, fmt.Errorf("start %s over ssh: %w", req.Role, err)
	}
	return h, nil
}

func remoteLogName(req Request, host string, i int) string {
	safe := strings.NewReplacer("@", "_", ":", "_", "/", "_").Replace(host)
	if req.Role == Controller {
		return fmt.Sprintf("ipcontroller-%s-%s.log", req.ClusterID, safe)
	}
	return fmt.Sprintf("ipengine-%s-%s-%s-%d.log", req.ClusterID, req.SetID, safe, i)
}

// FetchFiles copies the controller's files that exist so far back from its host.
func (l *sshLauncher) FetchFiles(ctx context.Context, h *Handle) error {
	d, err := handleData(h)
	if err != nil || len(h.Processes) == 0 {
		return err
	}
	ctx, cancel := d.commandContext(ctx)
	defer cancel()
	c, err := l.pool(d.Conn).Get(ctx, h.Processes[0].Host)
	if err != nil {
		return err
	}
	for _, f := range d.Fetch {
		if _, err := c.Stat(ctx, f.From); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return err
		}
		if err := c.Get(ctx, f.From, f.To, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func handleData(h *Handle) (sshData, error) {
	var d sshData
	if len(h.Data) > 0 {
		if err := json.Unmarshal(h.Data, &d); err != nil {
			return d, fmt.Errorf("ssh handle: %w", err)
		}
	}
	return d, nil
}

func (l *sshLauncher) Signal(ctx context.Context, h *Handle, sig syscall.Signal) error {
	defer l.forget(h)
	return l.eachHost(ctx, h, func(ctx context.Context, c *remote.Client, procs []Process, d sshData) error {
		return signalOnHost(ctx, c, procs, sig)
	})
}

func (l *sshLauncher) Stop(ctx context.Context, h *Handle) error {
	defer l.forget(h)
	return l.eachHost(ctx, h, func(ctx context.Context, c *remote.Client, procs []Process, d sshData) error {
		return stopOnHost(ctx, c, procs, d.stopTimeout())
	})
}

// eachHost runs fn for every host of the handle, in parallel, each with its processes.
func (l *sshLauncher) eachHost(ctx context.Context, h *Handle, fn func(context.Context, *remote.Client, []Process, sshData) error) error {
	d, err := handleData(h)
	if err != nil {
		return err
	}
	byHost := map[string][]Process{}
	var hosts []string
	for _, p := range h.Processes {
		if _, ok := byHost[p.Host]; !ok {
			hosts = append(hosts, p.Host)
		}
		byHost[p.Host] = append(byHost[p.Host], p)
	}
	pool := l.pool(d.Conn)
	return remote.ForEach(ctx, hosts, 16, func(ctx context.Context, host string) error {
		ctx, cancel := d.commandContext(ctx)
		defer cancel()
		c, err := pool.Get(ctx, host)
		if err != nil {
			return err
		}
		return fn(ctx, c, byHost[host], d)
	})
}

// forget drops a handle's cached state (after Stop and Signal, the next Status asks again).
func (l *sshLauncher) forget(h *Handle) {
	l.mu.Lock()
	delete(l.recent, h)
	l.mu.Unlock()
}
