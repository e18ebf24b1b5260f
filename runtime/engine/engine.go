// Package engine is the Go shell engine: it registers with an ipyparallel controller (ours
// or the Python one) like ipyparallel's ipengine, runs the code of every execute_request as
// a shell command in its own process group, streams the command's output as iopub stream
// messages, and answers apply_request (pickled Python functions) with a clear error.
//
// All sockets live on one transport.Loop; commands run in child processes watched by
// goroutines that post their output and exit back to the loop, so the engine keeps
// answering heartbeats and control requests while a command runs.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"ipcluster/profiles"
	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

// Errors Run returns, wrapped with the details, so that a caller can tell with errors.Is
// why the engine stopped. ipengine prints the error and exits 1 for any of them (and for
// ErrStartup); the message, not the exit code, says which.
var (
	// ErrRegistration: the controller refused the engine or never answered.
	ErrRegistration = errors.New("registration failed")
	// ErrControllerGone: heartbeats stopped arriving.
	ErrControllerGone = errors.New("controller gone")
	// ErrUnregistered: the controller said it no longer knows this engine.
	ErrUnregistered = errors.New("unregistered by the controller")
)

// Config is what an engine needs; zero values take the defaults noted.
//
// The tagged fields are the engine's options under ipyparallel's class and trait names
// (c.IPEngine.timeout, c.ShellEngine.shell, ...): Configure reads them from the command line,
// the profile's ipengine_config.py/.json and the environment.
type Config struct {
	Info     profiles.EngineInfo // the engine connection info (Source.Load)
	InfoFrom string              // where Info (and its key) came from, as Source.Load says: for messages
	Location string              `config:"location" class:"IPEngine" help:"controller host or address to use when the connection info's interface is 0.0.0.0 or *"`

	UUID      string       `config:"session" class:"Session" help:"engine uuid (default: a new random one)"`
	ID        *int         `config:"id" class:"IPEngine" help:"engine id to request (default: the MPI rank with use_mpi, else the controller's choice)"`
	ClusterID string       `config:"cluster_id" class:"BaseParallelApplication" help:"cluster id, part of the connection file name (may be empty)"`
	WorkDir   string       // where commands run; default the current directory (c.IPEngine.work_dir, see Configure)
	Shell     ShellCommand `config:"shell" class:"ShellEngine" help:"shell that runs the code: '/bin/bash' (run as /bin/bash -c CODE), a prefix such as 'bash -lc', or a list"`
	Env       []string     // base environment of commands; default os.Environ()

	// StartupCommand and StartupScript run once, in WorkDir with the shell, before the
	// engine registers; if either fails the engine does not start (ErrStartup).
	StartupCommand string `config:"startup_command" class:"IPEngine" help:"shell command run once in work_dir before registering; if it fails, the engine stops with its output"`
	StartupScript  string `config:"startup_script" class:"IPEngine" help:"shell script (a file) sourced once in work_dir before registering, after startup_command"`

	RegistrationTimeout time.Duration `config:"timeout" class:"IPEngine" help:"seconds to wait for the controller's registration reply"`
	MaxHeartbeatMisses  int           `config:"max_heartbeat_misses" class:"IPEngine" help:"leave after this many heartbeat checks (every hb_period+0.5 s) without a ping (0: never)"`
	KillGrace           time.Duration `config:"kill_timeout" class:"ShellEngine" help:"seconds from SIGTERM to SIGKILL when stopping a command"`
	// GuardProgram, when set, is started (with GuardEnv=1) at the first command to stop what
	// the command left if this engine is killed outright; cmd/ipengine passes itself.
	GuardProgram string
	// Executor, when set, answers execute_requests in this process instead of running the
	// code with Shell (see Executor); the engine swarm benchmark sets it.
	Executor Executor

	// SSHSettings (--ssh, --sshkey) tunnel every connection to the controller (tunnel.go).
	SSHSettings

	Logger *slog.Logger
}

// DefaultConfig is a Config holding the defaults that New applies, as the options are
// documented.
func DefaultConfig() Config {
	return Config{Shell: ShellCommand{"/bin/sh", "-c"}, RegistrationTimeout: 10 * time.Second,
		MaxHeartbeatMisses: 10, KillGrace: 3 * time.Second}
}

func (c *Config) setDefaults() error {
	if c.UUID == "" {
		c.UUID = wire.NewID()
	}
	if c.WorkDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("work directory: %w", err)
		}
		c.WorkDir = wd
	}
	wd, err := filepath.Abs(c.WorkDir)
	if err != nil {
		return fmt.Errorf("work directory %s: %w", c.WorkDir, err)
	}
	if st, err := os.Stat(wd); err != nil || !st.IsDir() {
		return fmt.Errorf("work directory %s is not a directory", wd)
	}
	c.WorkDir = wd
	d := DefaultConfig()
	if len(c.Shell) == 0 {
		c.Shell = d.Shell
	}
	if c.Env == nil {
		c.Env = os.Environ()
	}
	if c.RegistrationTimeout <= 0 {
		c.RegistrationTimeout = d.RegistrationTimeout
	}
	if c.MaxHeartbeatMisses <= 0 {
		c.MaxHeartbeatMisses = d.MaxHeartbeatMisses
	}
	if c.KillGrace <= 0 {
		c.KillGrace = d.KillGrace
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return checkInfo(c.Info, "connection info", true) // an empty key here means unsigned messages
}

// Engine is one shell engine. Make it with New and serve with Run (once).
type Engine struct {
	cfg     Config
	log     *slog.Logger
	session *wire.Session
	enc     *encoder
	ends    endpoints
	loop    *transport.Loop

	reg, heartIn, heartOut, shell, control, iopub *transport.Socket

	id         atomic.Int64 // -1 until registered
	registered bool
	regTimer   *transport.Timer

	hbCheck time.Duration
	pinged  bool // a ping arrived since the last check
	misses  int

	queue     []*request      // shell requests waiting, in arrival order
	current   *job            // the command running, if any
	aborted   map[string]bool // msg_ids to answer "aborted" when they arrive
	execCount int

	guard       *guard // started with the first command
	guardFailed bool

	stopping bool
	result   error  // what Run returns
	finish   func() // sends the last messages (shutdown_reply) once the command is gone

	// transmit sends frames on s; tests and benchmarks replace it to see what is sent.
	transmit func(s sender, frames [][]byte) error
}

// New checks the configuration. Nothing is connected until Run.
func New(cfg Config) (*Engine, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	key := []byte(cfg.Info.Key)
	session, err := wire.NewSessionWithID(cfg.UUID, key, cfg.Info.SignatureScheme)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, session: session, ends: resolve(cfg.Info, cfg.Location), aborted: map[string]bool{},
		transmit: func(s sender, frames [][]byte) error { return s.Send(frames) }}
	e.enc = newEncoder(session)
	e.log = cfg.Logger.With("uuid", cfg.UUID)
	e.id.Store(-1)
	return e, nil
}

// UUID is the engine's uuid (its session id and socket identity).
func (e *Engine) UUID() string { return e.cfg.UUID }

// ID is the engine id the controller assigned, or -1 before registration. Safe from any
// goroutine.
func (e *Engine) ID() int { return int(e.id.Load()) }

// Run registers with the controller and serves until a shutdown_request (nil), ctx is done
// (nil: the running command is stopped and the engine unregisters), the heartbeat stops
// (ErrControllerGone), the controller says it no longer knows the engine (ErrUnregistered),
// registration fails (ErrRegistration), or, before anything else, the
// startup command or script fails (ErrStartup). No command outlives Run.
func (e *Engine) Run(ctx context.Context) (err error) {
	if err := e.runStartup(ctx); err != nil {
		return err
	}
	closeTunnel, err := e.openTunnel(ctx)
	if err != nil {
		return err
	}
	defer func() { err = closeTunnel(err) }()
	zctx, err := transport.NewContext()
	if err != nil {
		return err
	}
	zctx.SetLogger(e.log)
	defer zctx.Term()
	if e.loop, err = transport.NewLoop(zctx); err != nil {
		return err
	}
	if err := e.openSockets(zctx); err != nil {
		return err
	}
	if err := e.register(); err != nil {
		e.closeSockets()
		return err
	}
	watchDone := make(chan struct{})
	defer close(watchDone)
	go func() {
		select {
		case <-ctx.Done():
			e.loop.Post(func() { e.stop(nil, nil, "asked to stop") })
		case <-watchDone:
		}
	}()
	defer e.closeGuard()
	if err := e.loop.Run(context.Background()); err != nil {
		if e.current != nil { // the loop broke: no orderly stop, but no orphan either
			e.current.signal(syscall.SIGKILL)
		}
		return fmt.Errorf("engine loop: %w", err)
	}
	e.log.Info("engine stopped")
	return e.result
}

// openSockets creates every socket with the engine uuid as identity; only the registration
// DEALER is connected before the controller accepts us.
func (e *Engine) openSockets(zctx *transport.Context) error {
	ident := []byte(e.cfg.UUID)
	// With a curve_serverkey every socket is a CurveZMQ client, with a key pair of its own
	// for this engine (as ipyparallel 9's engines make one).
	serverKey := curveServerKey(e.cfg.Info)
	var own transport.CurveKeys
	if serverKey != "" {
		var err error
		if own, err = transport.NewCurveKeypair(); err != nil {
			return fmt.Errorf("connection info has curve_serverkey: %w", err)
		}
	}
	for _, s := range []struct {
		sock    **transport.Socket
		kind    transport.Kind
		handler transport.Handler
	}{
		{&e.reg, transport.Dealer, e.onRegistration},
		{&e.heartIn, transport.Sub, e.onPing},
		{&e.heartOut, transport.Dealer, nil},
		{&e.shell, transport.Router, e.onShell},
		{&e.control, transport.Router, e.onControl},
		{&e.iopub, transport.Pub, nil},
	} {
		sock, err := zctx.NewSocket(s.kind)
		if err != nil {
			e.closeSockets()
			return err
		}
		e.loop.Add(sock, s.handler)
		*s.sock = sock
		if serverKey != "" {
			if err := sock.SetCurveClient(serverKey, own); err != nil {
				e.closeSockets()
				return err
			}
		}
		if s.kind != transport.Sub {
			if err := sock.SetIdentity(ident); err != nil {
				e.closeSockets()
				return fmt.Errorf("set socket identity: %w", err)
			}
		}
	}
	return nil
}

// closeSockets closes every socket of the loop without serving: a stopped loop's Run only
// closes its sockets.
func (e *Engine) closeSockets() {
	e.loop.Stop()
	e.loop.Run(context.Background())
}

// stop begins leaving: queued requests are answered "aborted", the running command's
// process group is stopped, and once it is gone finish runs, the engine unregisters and
// Run returns result. Later calls are ignored.
func (e *Engine) stop(result error, finish func(), why string) {
	if e.stopping {
		return
	}
	e.stopping, e.result, e.finish = true, result, finish
	if result != nil {
		e.log.Error("stopping", "why", why, "err", result)
	} else {
		e.log.Info("stopping", "why", why)
	}
	if e.regTimer != nil {
		e.regTimer.Stop()
	}
	for _, r := range e.queue {
		e.replyAborted(r)
	}
	e.queue = nil
	if e.current != nil {
		e.current.terminate(e, "the engine is stopping ("+why+")")
		return // onJobDone calls leave
	}
	e.leave()
}

// leave sends the last messages and stops the loop; the sockets' linger delivers them.
func (e *Engine) leave() {
	if e.finish != nil {
		e.finish()
	}
	if e.registered {
		e.send(e.reg, nil, "unregistration_request", nil, nil, map[string]any{"id": e.ID()})
	}
	e.loop.Stop()
}

// send signs and sends a message; parent is the raw header of the request answered.
func (e *Engine) send(s sender, idents [][]byte, msgType string, parent []byte, metadata, content any) error {
	frames, err := e.session.Reply(idents, msgType, parent, metadata, content, nil)
	if err != nil {
		e.log.Error("encode message", "type", msgType, "err", err)
		return err
	}
	if err := e.transmit(s, frames); err != nil {
		e.log.Warn("send failed", "type", msgType, "err", err)
		return err
	}
	return nil
}

// publish sends an iopub message with topic engine.<id>.<type> and the encoded content.
// Every iopub message carries the engine uuid in its metadata: the client maps output to
// engines by it.
func (e *Engine) publish(msgType string, parent []byte, content []byte) {
	var tb [48]byte
	topic := append(tb[:0], "engine."...)
	topic = strconv.AppendInt(topic, int64(e.ID()), 10)
	topic = append(append(topic, '.'), msgType...)
	frames := e.enc.message(nil, topic, msgType, parent, e.enc.iopubMeta, content)
	if err := e.transmit(e.iopub, frames); err != nil {
		e.log.Warn("send failed", "type", msgType, "err", err)
	}
}

// publishValue publishes content encoded as JSON.
func (e *Engine) publishValue(msgType string, parent []byte, content any) {
	enc, err := wire.Marshal(content)
	if err != nil {
		e.log.Error("encode message", "type", msgType, "err", err)
		return
	}
	e.publish(msgType, parent, enc)
}
