//go:build !libzmq

// Package transport speaks ZeroMQ's wire protocol (ZMTP 3, NULL mechanism, over TCP) in pure
// Go: ROUTER, DEALER, PUB and SUB sockets that interoperate with libzmq's (pyzmq, hence the
// Python ipyparallel Client, controller and engines), and an event loop that owns them.
//
// Why not libzmq: through cgo, every message crossed into C and to libzmq's I/O thread and
// back, which cost more than the controller's own work per task; written here, a message is
// one append to a buffer and the loop flushes each connection once per batch. The programs
// also need no libzmq at run time, so an engine binary can be copied to a compute node.
package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// reconnectInterval is how long a connecting socket waits before dialling again (libzmq's
// default ZMQ_RECONNECT_IVL).
const reconnectInterval = 100 * time.Millisecond

// Socket is one ZeroMQ-compatible socket. Its owner (one goroutine at a time, or the loop it
// was added to) sends and receives; connections are served by goroutines of their own.
type Socket struct {
	ctx  *Context
	kind Kind
	// loop is set by Loop.Add (sends are then flushed once per loop iteration). Atomic:
	// sockets are usually bound before they are added, so connection goroutines may be
	// delivering messages, and reading it, while Add runs.
	loop atomic.Pointer[Loop]

	maxMsgSize atomic.Int64 // largest frame accepted from a peer, -1: any (SetMaxMsgSize)
	sendHWM    atomic.Int64 // messages queued per peer before sends to it drop or fail, 0: no limit
	recvHWM    atomic.Int64 // unread messages per peer before its connection stops being read, 0: no limit

	mu        sync.Mutex
	identity  []byte
	mandatory bool
	linger    time.Duration
	subs      [][]byte // SUB: our subscriptions, sent to every peer
	peers     []*peer
	byID      map[string]*peer // ROUTER: peers by routing id
	next      int              // DEALER: round-robin position
	pending   []byte           // DEALER: messages sent before any peer connected
	npending  int              // messages in pending
	inbox     []inboxEntry
	head      int // first unread message of inbox
	avail     chan struct{}
	listeners []net.Listener
	closed    bool

	closeCtx context.Context // done when the socket closes: stops dialers and handshakes
	cancel   context.CancelFunc
	targets  []*peer // PUB send scratch
}

// inboxEntry is a received message and the connection it came from (for the receive
// high-water mark, counted per connection).
type inboxEntry struct {
	msg  [][]byte
	from *peer
}

// NewSocket makes a socket with unlimited queues (as ipyparallel sets its high-water marks)
// and a short linger, so that closing never hangs on an absent peer.
func (c *Context) NewSocket(kind Kind) (*Socket, error) {
	if _, ok := socketTypeNames[kind]; !ok {
		return nil, fmt.Errorf("socket kind %d is not supported", kind)
	}
	s := &Socket{ctx: c, kind: kind, linger: 500 * time.Millisecond, avail: make(chan struct{}, 1)}
	if kind == Router {
		s.byID = map[string]*peer{}
	}
	s.maxMsgSize.Store(-1)
	s.closeCtx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// SetIdentity sets the routing id announced to peers. Call it before Bind or Connect.
func (s *Socket) SetIdentity(id []byte) error {
	if len(id) > 255 {
		return errors.New("identity longer than 255 bytes")
	}
	s.mu.Lock()
	s.identity = append([]byte(nil), id...)
	s.mu.Unlock()
	return nil
}

// SetMandatory makes a ROUTER report unroutable messages (ErrUnroutable) instead of dropping
// them silently.
func (s *Socket) SetMandatory() error {
	s.mu.Lock()
	s.mandatory = true
	s.mu.Unlock()
	return nil
}

// SetMaxMsgSize sets the largest frame a peer may send, in bytes (libzmq's ZMQ_MAXMSGSIZE,
// which also counts each frame of a multipart message on its own); a peer that announces a
// larger one is disconnected, and logged, while the socket's other connections go on. -1,
// the default, accepts any size (ipyparallel sends buffers of hundreds of MB): a frame's
// memory is then only allocated as its bytes arrive.
func (s *Socket) SetMaxMsgSize(n int64) error {
	if n < -1 {
		return fmt.Errorf("maximum message size %d: want -1 (no limit) or a size in bytes", n)
	}
	s.maxMsgSize.Store(n)
	return nil
}

// SetSendHWM sets the send high-water mark (libzmq's ZMQ_SNDHWM): how many messages may
// wait, per connection, for the kernel to take them. At the mark a PUB drops the message for
// that subscriber, a ROUTER drops it (a mandatory ROUTER returns ErrFull instead, as libzmq
// returns EAGAIN), and a DEALER sends to its next peer with room, or returns ErrFull when
// none has (before any peer connected, it keeps up to the mark). Send never blocks. 0, the
// default, is no limit.
func (s *Socket) SetSendHWM(n int) error {
	if n < 0 {
		return fmt.Errorf("send high-water mark %d: want 0 (no limit) or a number of messages", n)
	}
	s.sendHWM.Store(int64(n))
	return nil
}

// SetRecvHWM sets the receive high-water mark (libzmq's ZMQ_RCVHWM): once a connection has
// this many messages received but not yet read, the socket stops reading it until its owner
// catches up, so TCP pushes back on the sender instead of the queue growing. 0, the
// default, is no limit.
func (s *Socket) SetRecvHWM(n int) error {
	if n < 0 {
		return fmt.Errorf("receive high-water mark %d: want 0 (no limit) or a number of messages", n)
	}
	s.recvHWM.Store(int64(n))
	return nil
}

// SetLinger sets how long Close keeps writing queued messages.
func (s *Socket) SetLinger(ms int) error {
	s.mu.Lock()
	s.linger = time.Duration(ms) * time.Millisecond
	s.mu.Unlock()
	return nil
}

// Subscribe subscribes a SUB socket to a topic prefix ("" for everything).
func (s *Socket) Subscribe(prefix string) error {
	if s.kind != Sub {
		return errors.New("subscribe: not a SUB socket")
	}
	s.mu.Lock()
	s.subs = append(s.subs, []byte(prefix))
	peers := append([]*peer(nil), s.peers...)
	s.mu.Unlock()
	for _, p := range peers {
		p.queue(func(b []byte) []byte { return appendSubscription(b, []byte(prefix)) })
		p.flush()
	}
	return nil
}

// Bind listens on transport://ip:port; port 0 picks a free port. It returns the bound port.
// For ipc, ip is a path prefix and the socket file is "<ip>:<port>" (see endpoint.go).
func (s *Socket) Bind(transport, ip string, port int) (int, error) {
	switch transport {
	case "tcp":
		host := ip
		if host == "" || host == "*" {
			host = "0.0.0.0"
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return 0, fmt.Errorf("bind tcp://%s:%d: %w", ip, port, err)
		}
		return ln.Addr().(*net.TCPAddr).Port, s.serve(ln)
	case "ipc":
		path, n, err := ipcBindPath(ip, port)
		if err != nil {
			return 0, err
		}
		return n, s.bindIPC(path)
	}
	return 0, fmt.Errorf("bind: transport %q is not supported (use tcp or ipc)", transport)
}

// bindIPC listens on a unix-domain socket file, which is removed when the socket closes.
func (s *Socket) bindIPC(path string) error {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("bind ipc://%s: %w", path, err)
	}
	return s.serve(ln)
}

// serve accepts connections on ln until the socket closes.
func (s *Socket) serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrClosed
	}
	s.listeners = append(s.listeners, ln)
	s.mu.Unlock()
	s.ctx.wg.Add(1)
	go s.accept(ln)
	return nil
}

// Connect connects to an endpoint such as tcp://127.0.0.1:5555 or ipc:///tmp/sock, in the
// background: like libzmq, it keeps dialling (and redialling after a disconnection) until
// the socket closes.
func (s *Socket) Connect(ep string) error {
	e, err := parseEndpoint(ep)
	if err != nil {
		return err
	}
	network, addr := "unix", e.path
	if e.transport == "tcp" {
		if e.port == "*" || e.port == "0" {
			return fmt.Errorf("connect %s: a port is needed", ep)
		}
		network, addr = "tcp", net.JoinHostPort(e.host, e.port)
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	s.ctx.wg.Add(1)
	go s.dial(network, addr)
	return nil
}

// Accept failures back off from acceptRetryMin, doubling to acceptRetryMax (net/http's
// Server does the same): running out of file descriptors must not end the listener.
const (
	acceptRetryMin = 5 * time.Millisecond
	acceptRetryMax = time.Second
)

// accept serves a listener until it is closed. A failing accept (EMFILE when the process is
// out of file descriptors, ENFILE, ENOBUFS, ...) is retried after a growing pause, and a burst
// of failures is logged twice: when it starts and when accepting works again.
func (s *Socket) accept(ln net.Listener) {
	defer s.ctx.wg.Done()
	var delay time.Duration
	failures := 0
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.closeCtx.Err() != nil {
				return
			}
			if failures == 0 {
				args := []any{"socket", socketTypeNames[s.kind], "address", ln.Addr().String(), "err", err}
				if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
					args = append(args, "hint", "out of file descriptors: raise the open-file limit (ulimit -Hn and -n); each engine holds 8 connections to its controller")
				}
				s.ctx.warn("ZeroMQ listener cannot accept connections; retrying", args...)
			}
			failures++
			delay = min(max(2*delay, acceptRetryMin), acceptRetryMax)
			select {
			case <-time.After(delay):
			case <-s.closeCtx.Done():
				return
			}
			continue
		}
		if failures > 0 {
			s.ctx.info("ZeroMQ listener accepts connections again", "socket", socketTypeNames[s.kind],
				"address", ln.Addr().String(), "failed_accepts", failures)
			delay, failures = 0, 0
		}
		s.ctx.wg.Add(1)
		go func() {
			defer s.ctx.wg.Done()
			if p := s.open(conn); p != nil {
				// A fresh goroutine reads: the handshake grows its goroutine's stack, which a
				// connection (idle, mostly, and one of thousands) would keep for its life.
				s.ctx.wg.Add(1)
				go func() {
					defer s.ctx.wg.Done()
					p.run()
				}()
			}
		}()
	}
}

func (s *Socket) dial(network, addr string) {
	defer s.ctx.wg.Done()
	dialer := net.Dialer{Timeout: 5 * time.Second}
	for {
		if conn, err := dialer.DialContext(s.closeCtx, network, addr); err == nil {
			if p := s.open(conn); p != nil {
				p.run()
			}
		}
		select {
		case <-s.closeCtx.Done():
			return
		case <-time.After(reconnectInterval):
		}
	}
}

// open completes the handshake on a new connection and attaches the peer, or closes the
// connection and returns nil.
func (s *Socket) open(conn net.Conn) *peer {
	stop := context.AfterFunc(s.closeCtx, func() { conn.Close() })
	p, err := s.handshake(conn)
	if !stop() {
		conn.Close() // the socket closed meanwhile
		return nil
	}
	if err != nil {
		s.ctx.warnConnection("ZeroMQ connection refused", "socket", socketTypeNames[s.kind], "peer", conn.RemoteAddr().String(), "err", err)
		conn.Close()
		return nil
	}
	if !s.attach(p) {
		conn.Close()
		return nil
	}
	p.flush()
	return p
}

// attach adds a handshaken peer: a ROUTER indexes it by routing id (refusing a second
// connection with an id in use, as libzmq does), a SUB sends it our subscriptions, a DEALER
// hands it what was sent before any peer connected.
func (s *Socket) attach(p *peer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.kind == Router {
		if _, taken := s.byID[string(p.identity)]; taken {
			return false
		}
		s.byID[string(p.identity)] = p
	}
	s.peers = append(s.peers, p)
	switch s.kind {
	case Sub:
		for _, sub := range s.subs {
			p.wbuf = appendSubscription(p.wbuf, sub)
		}
	case Dealer:
		p.wmu.Lock()
		p.wbuf, s.pending = append(p.wbuf, s.pending...), nil
		p.queued += s.npending
		s.npending = 0
		p.wmu.Unlock()
	}
	return true
}

// detach forgets an ended peer.
func (s *Socket) detach(p *peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.peers {
		if q == p {
			s.peers = append(s.peers[:i], s.peers[i+1:]...)
			break
		}
	}
	if s.kind == Router && s.byID[string(p.identity)] == p {
		delete(s.byID, string(p.identity))
	}
}

// deliver takes a message read from p.
func (s *Socket) deliver(p *peer, msg [][]byte) {
	switch s.kind {
	case Pub:
		if len(msg) == 1 && len(msg[0]) > 0 && msg[0][0] <= 1 { // subscription messages
			s.subscription(p, msg[0][0] == 1, msg[0][1:])
		}
		return
	case Router:
		msg = append([][]byte{p.identity}, msg...)
	case Sub:
		s.mu.Lock()
		wanted := subscribed(s.subs, msg[0])
		s.mu.Unlock()
		if !wanted {
			return
		}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	first := len(s.inbox) == s.head
	s.inbox = append(s.inbox, inboxEntry{msg, p})
	p.unread.Add(1)
	s.mu.Unlock()
	if first {
		select {
		case s.avail <- struct{}{}:
		default:
		}
		if l := s.loop.Load(); l != nil {
			l.signal()
		}
	}
}

func (s *Socket) subscription(p *peer, subscribe bool, topic []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if subscribe {
		p.subs = append(p.subs, append([]byte(nil), topic...))
		return
	}
	for i, sub := range p.subs {
		if string(sub) == string(topic) {
			p.subs = append(p.subs[:i], p.subs[i+1:]...)
			return
		}
	}
}

// Send sends a multipart message: on a ROUTER the first frame names the peer; a DEALER
// takes turns among its peers (and keeps messages until one connects); a PUB sends to the
// peers subscribed to a prefix of the first frame. The frames are copied: the caller may
// reuse them.
func (s *Socket) Send(frames [][]byte) error {
	switch s.kind {
	case Router:
		if len(frames) < 2 {
			return errors.New("send: a ROUTER message needs a routing id and a body")
		}
		s.mu.Lock()
		p, mandatory := s.byID[string(frames[0])], s.mandatory
		s.mu.Unlock()
		if p == nil {
			if mandatory {
				return ErrUnroutable
			}
			return nil
		}
		if !s.enqueue(p, frames[1:]) && mandatory {
			return ErrFull
		}
	case Dealer:
		hwm := int(s.sendHWM.Load())
		s.mu.Lock()
		if len(s.peers) == 0 {
			if hwm > 0 && s.npending >= hwm {
				s.mu.Unlock()
				return ErrFull
			}
			s.pending = appendMessage(s.pending, frames)
			s.npending++
			s.mu.Unlock()
			return nil
		}
		// Take turns among the peers with room (libzmq skips a full pipe); all full: refuse.
		// Outside the lock: a failing flush ends its peer, which detaches it under s.mu.
		peers, start := append(s.targets[:0], s.peers...), s.next
		s.targets = nil
		s.mu.Unlock()
		sent := false
		for i := range peers {
			if s.enqueue(peers[(start+i)%len(peers)], frames) {
				s.mu.Lock()
				s.next = start + i + 1
				s.mu.Unlock()
				sent = true
				break
			}
		}
		s.mu.Lock()
		s.targets = peers[:0]
		s.mu.Unlock()
		if !sent {
			return ErrFull
		}
	case Pub:
		if len(frames) == 0 {
			return nil
		}
		s.mu.Lock()
		s.targets = s.targets[:0]
		for _, p := range s.peers {
			if p.matches(frames[0]) {
				s.targets = append(s.targets, p)
			}
		}
		targets := s.targets
		s.mu.Unlock()
		for _, p := range targets {
			s.enqueue(p, frames)
		}
	default:
		return errors.New("send: not possible on a SUB socket")
	}
	return nil
}

// enqueue encodes a message for p, unless p already holds the send high-water mark's count
// of unwritten messages (then it returns false and the message is not sent); the loop
// flushes it at the end of its iteration, a socket outside a loop flushes at once.
func (s *Socket) enqueue(p *peer, frames [][]byte) bool {
	if !p.queueMessage(int(s.sendHWM.Load()), func(b []byte) []byte { return appendMessage(b, frames) }) {
		return false
	}
	if l := s.loop.Load(); l != nil {
		l.markDirty(p)
		return true
	}
	p.flush()
	return true
}

// Recv blocks for one multipart message.
func (s *Socket) Recv() ([][]byte, error) {
	for {
		if msg, ok := s.pop(); ok {
			return msg, nil
		}
		select {
		case <-s.avail:
		case <-s.closeCtx.Done():
			return nil, ErrClosed
		}
	}
}

// TryRecv returns the next message, or ok=false when none is waiting.
func (s *Socket) TryRecv() (frames [][]byte, ok bool, err error) {
	frames, ok = s.pop()
	return frames, ok, nil
}

func (s *Socket) pop() ([][]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.head == len(s.inbox) {
		return nil, false
	}
	e := s.inbox[s.head]
	s.inbox[s.head] = inboxEntry{}
	s.head++
	e.from.read(1, s.recvHWM.Load())
	if s.head == len(s.inbox) {
		s.inbox, s.head = s.inbox[:0], 0
	}
	return e.msg, true
}

// popBatch takes up to max waiting messages at once (for the loop), and says whether more
// are left.
func (s *Socket) popBatch(into [][][]byte, max int) ([][][]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(len(s.inbox)-s.head, max)
	hwm := s.recvHWM.Load()
	for _, e := range s.inbox[s.head : s.head+n] {
		into = append(into, e.msg)
		e.from.read(1, hwm)
	}
	clear(s.inbox[s.head : s.head+n])
	s.head += n
	if s.head == len(s.inbox) {
		s.inbox, s.head = s.inbox[:0], 0
		return into, false
	}
	return into, true
}

// Close closes the socket: listeners and dialers stop at once, and each connection keeps
// writing what it holds for the linger time (Context.Term waits for that).
func (s *Socket) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	deadline := time.Now().Add(s.linger)
	listeners, peers := s.listeners, append([]*peer(nil), s.peers...)
	s.inbox, s.head = nil, 0
	s.mu.Unlock()
	s.cancel()
	for _, ln := range listeners {
		ln.Close()
	}
	for _, p := range peers {
		p.linger(deadline)
	}
	return nil
}
