// Package wiretest is a protocol peer for tests: it opens ZeroMQ sockets to (or for) a
// controller or an engine, sends messages signed with the session key, and waits for the
// replies and notifications a test expects, by predicate and with a deadline. It plays the
// client, a registering engine or a fake registrar, so that each test package keeps only
// the glue of its own role.
package wiretest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"ipcluster/internal/testutil"
	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

// Msg is a received message decoded for assertions: its JSON parts as maps.
type Msg struct {
	Socket   string // the name the socket was recorded under (Record); empty from Recv
	Idents   [][]byte
	Header   wire.Header
	Parent   wire.Header
	Metadata map[string]any
	Content  map[string]any
	Buffers  [][]byte
	Raw      *wire.Raw // the frames, split, for replying
}

func (m Msg) String() string {
	return fmt.Sprintf("%s %s parent=%s md=%v content=%v", m.Socket, m.Header.MsgType, m.Parent.MsgID, m.Metadata, m.Content)
}

// Peer is one protocol participant with its own session and ZeroMQ context. Its sockets
// are used either directly by the test (Send, Recv) or, once handed to Serve or Record,
// by the peer's loop, which runs from Start until the test ends.
type Peer struct {
	t        testing.TB
	Session  *wire.Session
	zctx     *transport.Context
	loop     *transport.Loop
	direct   []*transport.Socket        // closed at cleanup
	looped   map[*transport.Socket]bool // owned by the loop: sends go through it
	started  bool
	stopLoop context.CancelFunc // set by Start
	loopDone chan struct{}
	stopOnce sync.Once

	mu      sync.Mutex
	msgs    []Msg
	changed chan struct{} // closed and replaced on every recorded message
}

// New is a peer whose session signs with key and scheme ("" for the default).
func New(t testing.TB, key, scheme string) *Peer {
	t.Helper()
	s, err := wire.NewSession([]byte(key), scheme)
	if err != nil {
		t.Fatalf("wiretest: session: %v", err)
	}
	return newPeer(t, s)
}

// NewWithID is New with a session id of the caller's choosing (an engine's uuid).
func NewWithID(t testing.TB, id, key, scheme string) *Peer {
	t.Helper()
	s, err := wire.NewSessionWithID(id, []byte(key), scheme)
	if err != nil {
		t.Fatalf("wiretest: session: %v", err)
	}
	return newPeer(t, s)
}

func newPeer(t testing.TB, s *wire.Session) *Peer {
	zctx, err := transport.NewContext()
	if err != nil {
		t.Fatalf("wiretest: context: %v", err)
	}
	loop, err := transport.NewLoop(zctx)
	if err != nil {
		t.Fatalf("wiretest: loop: %v", err)
	}
	p := &Peer{t: t, Session: s, zctx: zctx, loop: loop, looped: map[*transport.Socket]bool{}, changed: make(chan struct{})}
	t.Cleanup(p.Stop)
	return p
}

// Stop closes every socket of the peer at once (its loop's too), as a killed process
// would; the test's end does it anyway.
func (p *Peer) Stop() {
	p.stopOnce.Do(func() {
		if p.started {
			p.stopLoop()
			<-p.loopDone // Run closes the loop's sockets
		} else {
			for s := range p.looped {
				p.direct = append(p.direct, s)
			}
		}
		for _, s := range p.direct {
			s.SetLinger(0)
			s.Close()
		}
		p.zctx.Term()
	})
}

// Local is the address of a port on 127.0.0.1, where the tests' controllers listen.
func Local(port int) string { return fmt.Sprintf("tcp://127.0.0.1:%d", port) }

// Connect opens a socket of kind connected to addr, with identity if not empty. A SUB
// socket subscribes to every topic.
func (p *Peer) Connect(kind transport.Kind, addr, identity string) *transport.Socket {
	p.t.Helper()
	s := p.socket(kind, identity)
	if err := s.Connect(addr); err != nil {
		p.t.Fatalf("wiretest: connect to %s: %v", addr, err)
	}
	return s
}

// Bind opens a socket of kind on a free port of 127.0.0.1 and returns it with the port.
func (p *Peer) Bind(kind transport.Kind) (*transport.Socket, int) {
	p.t.Helper()
	s := p.socket(kind, "")
	port, err := s.Bind("tcp", "127.0.0.1", 0)
	if err != nil {
		p.t.Fatalf("wiretest: bind: %v", err)
	}
	return s, port
}

func (p *Peer) socket(kind transport.Kind, identity string) *transport.Socket {
	p.t.Helper()
	s, err := p.zctx.NewSocket(kind)
	if err != nil {
		p.t.Fatalf("wiretest: socket: %v", err)
	}
	if identity != "" {
		s.SetIdentity([]byte(identity))
	}
	if kind == transport.Sub {
		s.Subscribe("")
	}
	p.direct = append(p.direct, s)
	return s
}

// Serve hands s to the peer's loop: h runs there for each message s receives (frames as
// they came, signed or not). A nil h keeps s for sending only. Call before Start.
func (p *Peer) Serve(s *transport.Socket, h transport.Handler) {
	p.t.Helper()
	if p.started {
		p.t.Fatal("wiretest: Serve after Start")
	}
	for i, d := range p.direct {
		if d == s {
			p.direct = append(p.direct[:i], p.direct[i+1:]...)
			break
		}
	}
	s.SetLinger(0) // Stop drops what is unsent, as a killed process would
	p.looped[s] = true
	p.loop.Add(s, h)
}

// Record hands s to the peer's loop and keeps every message it receives, decoded and
// tagged with name, for WaitFor and Received. Call before Start.
func (p *Peer) Record(s *transport.Socket, name string) {
	p.Serve(s, func(frames [][]byte) {
		m, err := p.Decode(frames)
		if err != nil {
			p.t.Errorf("wiretest: bad message on %s: %v", name, err)
			return
		}
		m.Socket = name
		p.mu.Lock()
		p.msgs = append(p.msgs, m)
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	})
}

// Start runs the loop of the sockets given to Serve and Record until Stop or the test's end.
func (p *Peer) Start() {
	var ctx context.Context
	ctx, p.stopLoop = context.WithCancel(context.Background())
	p.loopDone = make(chan struct{})
	p.started = true
	go func() {
		p.loop.Run(ctx)
		close(p.loopDone)
	}()
}

// Post runs f on the peer's loop (after Start), where the sockets it owns may be used.
func (p *Peer) Post(f func()) { p.loop.Post(f) }

// Send signs and sends a message on s and returns its header. On a socket of the loop the
// send happens there.
func (p *Peer) Send(s *transport.Socket, idents [][]byte, msgType string, metadata, content any) wire.Header {
	p.t.Helper()
	h := p.Session.NewHeader(msgType)
	frames, err := p.Session.Serialize(&wire.Message{Idents: idents, Header: h, Metadata: metadata, Content: content})
	if err != nil {
		p.t.Fatalf("wiretest: serialize %s: %v", msgType, err)
	}
	p.SendFrames(s, frames)
	return h
}

// SendFrames sends frames as they are on s (through the loop if it owns s).
func (p *Peer) SendFrames(s *transport.Socket, frames [][]byte) {
	p.t.Helper()
	if !p.looped[s] {
		if err := s.Send(frames); err != nil {
			p.t.Fatalf("wiretest: send: %v", err)
		}
		return
	}
	p.loop.Post(func() {
		if err := s.Send(frames); err != nil {
			p.t.Errorf("wiretest: send: %v", err)
		}
	})
}

// Reply answers m on s (to its sender, through the loop if it owns s) with a message of
// msgType whose parent is m.
func (p *Peer) Reply(s *transport.Socket, m Msg, msgType string, metadata, content any, buffers [][]byte) {
	p.t.Helper()
	frames, err := p.Session.Reply(m.Idents, msgType, m.Raw.Header, metadata, content, buffers)
	if err != nil { // Errorf: this may run on the loop, where Fatal must not be called
		p.t.Errorf("wiretest: serialize %s: %v", msgType, err)
		return
	}
	p.SendFrames(s, frames)
}

// Decode checks a message's signature and decodes it.
func (p *Peer) Decode(frames [][]byte) (Msg, error) {
	r, err := p.Session.Decode(frames)
	if err != nil {
		return Msg{}, err
	}
	m := Msg{Idents: r.Idents, Buffers: r.Buffers, Raw: r}
	if m.Header, err = wire.ParseHeader(r.Header); err != nil {
		return Msg{}, fmt.Errorf("header: %w", err)
	}
	json.Unmarshal(r.Parent, &m.Parent) // {} for a request
	json.Unmarshal(r.Metadata, &m.Metadata)
	json.Unmarshal(r.Content, &m.Content)
	return m, nil
}

// MustDecode is Decode that fails the test on a bad message.
func (p *Peer) MustDecode(frames [][]byte) Msg {
	p.t.Helper()
	m, err := p.Decode(frames)
	if err != nil {
		p.t.Fatalf("wiretest: bad message: %v", err)
	}
	return m
}

// Recv waits up to limit for a message on s, a socket the test uses directly.
func Recv(s *transport.Socket, limit time.Duration) ([][]byte, bool) {
	var frames [][]byte
	var err error
	ok := testutil.Within(limit, func() bool {
		var got bool
		frames, got, err = s.TryRecv()
		return got || err != nil
	})
	return frames, ok && err == nil
}

// Request sends msgType on s (a DEALER the test uses directly) and returns the reply,
// failing the test if none comes within limit or it answers another request.
func (p *Peer) Request(s *transport.Socket, msgType string, content any, limit time.Duration) Msg {
	p.t.Helper()
	h := p.Send(s, nil, msgType, nil, content)
	frames, ok := Recv(s, limit)
	if !ok {
		p.t.Fatalf("no reply to %s within %v", msgType, limit)
	}
	rep := p.MustDecode(frames)
	if rep.Parent.MsgID != h.MsgID {
		p.t.Fatalf("reply to %s has parent %q, want %q", msgType, rep.Parent.MsgID, h.MsgID)
	}
	return rep
}

// Next waits up to limit for a message on s (used directly) that matches pred, dropping
// the others, and fails the test if none comes.
func (p *Peer) Next(s *transport.Socket, limit time.Duration, what string, pred func(Msg) bool) Msg {
	p.t.Helper()
	var m Msg
	testutil.Eventually(p.t, limit, what, func() bool {
		for { // everything waiting, up to the first match
			frames, ok, _ := s.TryRecv()
			if !ok {
				return false
			}
			if m = p.MustDecode(frames); pred(m) {
				return true
			}
		}
	})
	return m
}

// WaitFor returns the first recorded message (in arrival order) that matches pred,
// waiting up to limit for it; on timeout the test fails with everything recorded.
func (p *Peer) WaitFor(limit time.Duration, what string, pred func(Msg) bool) Msg {
	p.t.Helper()
	deadline := time.After(limit)
	for {
		p.mu.Lock()
		msgs, changed := p.msgs, p.changed
		p.mu.Unlock()
		for _, m := range msgs { // unlocked: pred may look at other messages
			if pred(m) {
				return m
			}
		}
		select {
		case <-changed:
		case <-deadline:
			p.t.Fatalf("timed out after %s waiting for %s; received:\n%s", limit, what, p.dump())
		}
	}
}

// Received is every recorded message so far, in arrival order.
func (p *Peer) Received() []Msg {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Msg(nil), p.msgs...)
}

func (p *Peer) dump() string {
	var b strings.Builder
	for _, m := range p.Received() {
		b.WriteString("  " + m.String() + "\n")
	}
	return b.String()
}
