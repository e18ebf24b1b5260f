package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"ipcluster/profiles"
	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

// Controller is a running ipcontroller. Make one with New, serve with Run.
type Controller struct {
	cfg     Config
	log     *slog.Logger
	zctx    *transport.Context
	loop    *transport.Loop
	session *wire.Session
	started time.Time

	// client-facing sockets
	query, notifier, muxIn, ctrlIn, taskIn, bcastIn, iopubOut *transport.Socket
	// engine-facing sockets
	muxOut, ctrlOut, taskOut, iopubIn, hbPing, hbPong *transport.Socket
	bcastLeaves                                       []*transport.Socket

	clientInfo profiles.ClientInfo
	engineInfo profiles.EngineInfo
	keepFiles  bool   // --reuse: leave the connection files on exit
	ipcDir     string // the directory of ipc socket files made here, removed on exit

	hub    *hub
	hearts *heartMonitor
	tasks  *taskScheduler
	bcast  *broadcaster
	dask   *daskScheduler
	db     store
}

// New binds every socket and writes the connection files (only after binding, so that a
// reader who finds them can connect at once).
func New(cfg Config) (c *Controller, err error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	c = &Controller{cfg: cfg, log: cfg.Logger, started: time.Now()}
	if err := profiles.Dir(cfg.ProfileDir).Ensure(); err != nil {
		return nil, err
	}
	if cfg.Reuse {
		c.keepFiles = true
		if err := c.loadReusedFiles(); err != nil {
			c.log.Error("cannot reuse connection files; starting fresh", "err", err)
			c.cfg.Ports = cfg.Ports
		}
	}
	if err := c.prepareIPC(); err != nil {
		return nil, err
	}
	if c.zctx, err = transport.NewContext(); err != nil {
		c.removeIPCDir()
		return nil, err
	}
	c.zctx.SetLogger(c.log)
	ctl := c // c is nil once an error is returned; release what was made through ctl
	defer func() {
		if err != nil {
			if ctl.db != nil {
				ctl.db.close()
			}
			ctl.closeSockets()
			ctl.zctx.Term()
			ctl.removeIPCDir()
		}
	}()
	if c.loop, err = transport.NewLoop(c.zctx); err != nil {
		return nil, err
	}
	if c.session, err = wire.NewSession([]byte(c.cfg.Key), c.cfg.SignatureScheme); err != nil {
		return nil, err
	}
	if c.db, err = c.openStore(); err != nil {
		return nil, err
	}
	c.hub = newHub(c)
	c.hearts = newHeartMonitor(c)
	c.tasks = newTaskScheduler(c)
	c.bcast = newBroadcaster(c)
	c.dask = newDaskScheduler(c)
	if c.cfg.Restore {
		if err = c.hub.restoreEngines(); err != nil {
			return nil, err
		}
	}
	if err = c.bindAll(); err != nil {
		return nil, err
	}
	if err = c.writeConnectionFiles(); err != nil {
		return nil, err
	}
	if err = c.writePIDFile(); err != nil {
		if !c.keepFiles {
			c.removeConnectionFiles()
		}
		return nil, err
	}
	c.hub.saveEngineState()
	return c, nil
}

// ClientFile is the path of the client connection file.
func (c *Controller) ClientFile() string { return c.cfg.clientFile() }

// EngineFile is the path of the engine connection file.
func (c *Controller) EngineFile() string { return c.cfg.engineFile() }

// Run serves until ctx is done or a client asks the hub to shut down, then closes every
// socket and removes the connection files (unless reusing them).
func (c *Controller) Run(ctx context.Context) error {
	c.hearts.start()
	c.log.Info("controller ready", "client_file", c.ClientFile(), "engine_file", c.EngineFile(),
		"pid_file", c.PIDFile(), "scheme", c.cfg.Scheme, "transport", transport.Backend())
	err := c.loop.Run(ctx)
	c.hub.flushEngineState() // a change the loop had not yet written
	c.loop = nil
	c.dask.shutdown() // never leave a scheduler behind, however the controller stops
	if dbErr := c.db.close(); dbErr != nil {
		c.log.Error("task database", "err", dbErr)
	}
	if !c.keepFiles {
		c.removeConnectionFiles()
	}
	c.removePIDFile()
	if termErr := c.zctx.Term(); err == nil {
		err = termErr
	}
	c.removeIPCDir()
	c.log.Info("controller stopped")
	return err
}

// portPool hands out the configured ports in order, then 0 (a random free port).
type portPool []int

func (p *portPool) next() int {
	if len(*p) == 0 {
		return 0
	}
	port := (*p)[0]
	*p = (*p)[1:]
	return port
}

func (c *Controller) bindAll() error {
	pool := portPool(append([]int(nil), c.cfg.Ports...))
	reuse := c.cfg.Reuse && c.clientInfo.Registration != 0
	pick := func(reused int) int {
		if reuse {
			return reused
		}
		return pool.next()
	}
	type spec struct {
		role    string // for errors
		sock    **transport.Socket
		kind    transport.Kind
		ident   string
		port    *int
		handler transport.Handler
		mand    bool
	}
	ci, ei := &c.clientInfo, &c.engineInfo
	specs := []spec{
		{"registration", &c.query, transport.Router, "", &ci.Registration, c.hub.onQuery, false},
		{"notification", &c.notifier, transport.Pub, "", &ci.Notification, nil, false},
		{"mux, client side", &c.muxIn, transport.Router, "mux_in", &ci.Mux, c.onMuxRequest, false},
		{"mux, engine side", &c.muxOut, transport.Router, "mux_out", &ei.Mux, c.onMuxReply, true},
		{"control, client side", &c.ctrlIn, transport.Router, "control_in", &ci.Control, c.onControlRequest, false},
		{"control, engine side", &c.ctrlOut, transport.Router, "control_out", &ei.Control, c.onControlReply, true},
		{"task, client side", &c.taskIn, transport.Router, "task_in", &ci.Task, c.tasks.onSubmit, false},
		{"task, engine side", &c.taskOut, transport.Router, "task_out", &ei.Task, c.tasks.onResult, true},
		{"broadcast, client side", &c.bcastIn, transport.Router, "sub_scheduler_0", &ci.Broadcast, c.bcast.onRequest, false},
		{"iopub, client side", &c.iopubOut, transport.Pub, "", &ci.IOPub, nil, false},
		{"iopub, engine side", &c.iopubIn, transport.Sub, "", &ei.IOPub, c.onIOPub, false},
		{"heartbeat ping", &c.hbPing, transport.Pub, "", &ei.HBPing, nil, false},
		{"heartbeat pong", &c.hbPong, transport.Router, "", &ei.HBPong, c.hearts.onPong, false},
	}
	leaves := 1 << c.cfg.BroadcastDepth
	if !reuse || len(ei.Broadcast) != leaves {
		ei.Broadcast = make([]int, leaves)
	}
	c.bcastLeaves = make([]*transport.Socket, leaves)
	for i := range leaves {
		i := i
		specs = append(specs, spec{fmt.Sprintf("broadcast leaf %d, engine side", i), &c.bcastLeaves[i], transport.Router, fmt.Sprintf("sub_scheduler_0%0*b", c.cfg.BroadcastDepth, i),
			&ei.Broadcast[i], func(f [][]byte) { c.bcast.onReply(i, f) }, true})
	}
	for _, s := range specs {
		sock, err := c.zctx.NewSocket(s.kind)
		if err != nil {
			return err
		}
		*s.sock = sock
		if s.ident != "" {
			if err := sock.SetIdentity([]byte(s.ident)); err != nil {
				return err
			}
		}
		if s.mand {
			if err := sock.SetMandatory(); err != nil {
				return err
			}
		}
		// A peer that does not read loses messages past the send HWM here (see queueLimits).
		drops := s.sock == &c.query || s.sock == &c.notifier || s.sock == &c.iopubOut || s.sock == &c.hbPing
		if err := c.queueLimits(sock, drops); err != nil {
			return fmt.Errorf("%s: %w", s.role, err)
		}
		if s.kind == transport.Sub {
			if err := sock.Subscribe(""); err != nil {
				return err
			}
		}
		if c.cfg.EnableCurve {
			if err := sock.SetCurveServer(c.cfg.curveKeys()); err != nil {
				return fmt.Errorf("%s: %w", s.role, err)
			}
		}
		want := pick(*s.port)
		port, err := sock.Bind(c.cfg.Transport, c.cfg.IP, want)
		if err != nil {
			return &BindError{Socket: s.role, Transport: c.cfg.Transport, IP: c.cfg.IP, Port: want, Err: err}
		}
		*s.port = port
		c.loop.Add(sock, s.handler)
	}
	ei.Registration = ci.Registration
	c.fillFileKeys()
	return nil
}

// queueLimits bounds a socket's queues. The receive HWM goes on every socket: it only makes
// a connection that sends faster than the controller handles wait (TCP back-pressure), so
// nothing is lost. The send HWM goes only where dropping is what a ZeroMQ user expects and
// costs a stalled peer nothing it would have read: the query replies of a client that never
// reads them, and the PUB sockets (iopub, notification, heartbeat pings), which drop for a
// slow subscriber under libzmq's default too. Replies and results on the mux, task and
// control sockets, and tasks sent to engines, are never dropped: they are bounded by what
// their own client submitted, and losing one would lose a result. Counts are in messages, so
// buffers of hundreds of MB pass.
func (c *Controller) queueLimits(sock *transport.Socket, drops bool) error {
	if err := sock.SetRecvHWM(c.cfg.RecvHWM); err != nil {
		return err
	}
	if drops {
		return sock.SetSendHWM(c.cfg.SendHWM)
	}
	return nil
}

func (c *Controller) closeSockets() {
	all := []*transport.Socket{c.query, c.notifier, c.muxIn, c.muxOut, c.ctrlIn, c.ctrlOut, c.taskIn, c.taskOut,
		c.bcastIn, c.iopubOut, c.iopubIn, c.hbPing, c.hbPong}
	all = append(all, c.bcastLeaves...)
	for _, s := range all {
		if s != nil {
			s.Close()
		}
	}
}

func (c *Controller) fillFileKeys() {
	iface := c.cfg.Transport + "://" + c.cfg.IP
	ci, ei := &c.clientInfo, &c.engineInfo
	ci.SSH, ei.SSH = c.cfg.SSH, c.cfg.EngineSSH
	ci.Interface, ei.Interface = iface, iface
	ci.TaskScheme = c.cfg.Scheme
	ci.Key, ei.Key = c.cfg.Key, c.cfg.Key
	ci.CurveServerKey, ei.CurveServerKey = nil, nil
	if c.cfg.EnableCurve {
		serverKey := c.cfg.CurvePublicKey
		ci.CurveServerKey, ei.CurveServerKey = &serverKey, &serverKey
	}
	ci.Location, ei.Location = c.cfg.Location, c.cfg.Location
	ci.Pack, ci.Unpack, ei.Pack, ei.Unpack = "json", "json", "json", "json"
	ci.SignatureScheme, ei.SignatureScheme = c.cfg.SignatureScheme, c.cfg.SignatureScheme
}

// writeConnectionFiles writes both files or, failing, neither (a lone engine file would
// send engines to a controller that is not there).
func (c *Controller) writeConnectionFiles() error {
	if err := profiles.WriteSecret(c.EngineFile(), &c.engineInfo); err != nil {
		return err
	}
	if err := profiles.WriteSecret(c.ClientFile(), &c.clientInfo); err != nil {
		if !c.keepFiles {
			c.removeConnectionFiles()
		}
		return err
	}
	return nil
}

func (c *Controller) removeConnectionFiles() {
	for _, f := range []string{c.ClientFile(), c.EngineFile()} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			c.log.Warn("remove connection file", "file", f, "err", err)
		}
	}
}

// loadReusedFiles takes key, addresses and ports from existing connection files (--reuse).
func (c *Controller) loadReusedFiles() error {
	var ci profiles.ClientInfo
	var ei profiles.EngineInfo
	if err := profiles.ReadJSON(c.ClientFile(), &ci); err != nil {
		return err
	}
	if err := profiles.ReadJSON(c.EngineFile(), &ei); err != nil {
		return err
	}
	if ci.Key != ei.Key || ci.Registration != ei.Registration || ci.SignatureScheme != ei.SignatureScheme ||
		ci.Pack != ei.Pack || ci.Unpack != ei.Unpack {
		return fmt.Errorf("%s and %s disagree (key, registration port, scheme or packer)", c.ClientFile(), c.EngineFile())
	}
	if ci.Pack != "json" && ci.Pack != "" {
		return fmt.Errorf("packer %q is not supported (json only)", ci.Pack)
	}
	if ci.CurveServerKey != nil && *ci.CurveServerKey != "" && !c.cfg.EnableCurve {
		// Their empty HMAC key relied on CURVE: reusing it without CURVE would leave the
		// cluster unauthenticated.
		return fmt.Errorf("%s was written with enable_curve; set it again to reuse the files", c.ClientFile())
	}
	c.clientInfo, c.engineInfo = ci, ei
	c.cfg.Key, c.cfg.SignatureScheme = ci.Key, ci.SignatureScheme
	c.cfg.SSH, c.cfg.EngineSSH = ci.SSH, ei.SSH
	if ci.Location != "" {
		c.cfg.Location = ci.Location
	}
	if transport, ip, ok := splitInterface(ci.Interface); ok {
		c.cfg.Transport, c.cfg.IP = transport, ip
	}
	return nil
}

func splitInterface(iface string) (transport, ip string, ok bool) {
	for i := 0; i+3 <= len(iface); i++ {
		if iface[i:i+3] == "://" {
			return iface[:i], iface[i+3:], true
		}
	}
	return "", "", false
}

// send sends frames on s and logs a failure; sends never block (past a send HWM they drop).
func (c *Controller) send(s *transport.Socket, frames [][]byte) error {
	err := s.Send(frames)
	if err != nil && !errors.Is(err, transport.ErrUnroutable) {
		c.log.Error("send failed", "err", err)
	}
	return err
}

// reply signs and sends a message made by the hub's own session.
func (c *Controller) reply(s *transport.Socket, idents [][]byte, msgType string, parent []byte, metadata, content any, buffers [][]byte) {
	frames, err := c.session.Reply(idents, msgType, parent, metadata, content, buffers)
	if err != nil {
		c.log.Error("encode reply", "type", msgType, "err", err)
		return
	}
	c.send(s, frames)
}

// decode checks an incoming message; a bad one is logged with its sender and dropped.
func (c *Controller) decode(where string, frames [][]byte) (*wire.Raw, bool) {
	r, err := c.session.Decode(frames)
	if errors.Is(err, wire.ErrBadSignature) {
		c.log.Warn("dropped a message whose signature does not match this cluster's key: its sender likely uses a connection file from another controller or cluster",
			"socket", where, "peer", peerName(frames), "err", err)
		return nil, false
	}
	if err != nil {
		c.log.Warn("dropped bad message", "socket", where, "peer", peerName(frames), "err", err)
		return nil, false
	}
	return r, true
}

// peerName renders the first routing identity for logs (engine uuids are text; client ids
// are binary).
func peerName(frames [][]byte) string {
	if len(frames) == 0 || wire.DelimiterIndex(frames) == 0 {
		return "-"
	}
	id := frames[0]
	for _, b := range id {
		if b < 0x20 || b > 0x7e {
			return fmt.Sprintf("0x%x", id)
		}
	}
	return string(id)
}

// lifetime is seconds since start, the heartbeat payload ipyparallel uses.
func (c *Controller) lifetime() float64 { return time.Since(c.started).Seconds() }
