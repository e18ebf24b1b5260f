package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/testutil"
	"ipcluster/profiles"
	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

// running is a controller served in-process for a test.
type running struct {
	c      *Controller
	cancel context.CancelFunc
	done   chan error
	logs   *testutil.LogBuffer
	client profiles.ClientInfo
	engine profiles.EngineInfo
}

func startController(t *testing.T, cfg Config) *running {
	t.Helper()
	if cfg.ProfileDir == "" {
		cfg.ProfileDir = t.TempDir()
	}
	var logs *testutil.LogBuffer
	cfg.Logger, logs = testutil.Logger(t, "controller")
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{c: c, cancel: cancel, done: make(chan error, 1), logs: logs}
	go func() { r.done <- c.Run(ctx) }()
	if err := profiles.ReadJSON(c.ClientFile(), &r.client); err != nil {
		t.Fatal(err)
	}
	if err := profiles.ReadJSON(c.EngineFile(), &r.engine); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("controller stopped with %v", err)
		}
		r.done <- nil // let a second stop return at once
	case <-time.After(10 * time.Second):
		t.Fatal("controller did not stop within 10 s")
	}
}

// peer is a raw protocol participant: a DEALER on one controller port, with its own session.
type peer struct {
	t       *testing.T
	zctx    *transport.Context
	sock    *transport.Socket
	subs    []*transport.Socket
	session *wire.Session
}

func newPeer(t *testing.T, key string, identity string, port int) *peer {
	t.Helper()
	zctx, err := transport.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	s, err := wire.NewSession([]byte(key), "hmac-sha256")
	if err != nil {
		t.Fatal(err)
	}
	sock, _ := zctx.NewSocket(transport.Dealer)
	if identity != "" {
		sock.SetIdentity([]byte(identity))
	}
	if err := sock.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", port)); err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, zctx: zctx, sock: sock, session: s}
	t.Cleanup(p.close)
	return p
}

func (p *peer) close() {
	if p.sock == nil {
		return
	}
	p.sock.SetLinger(0)
	p.sock.Close()
	for _, s := range p.subs {
		s.SetLinger(0)
		s.Close()
	}
	p.sock = nil
	p.zctx.Term()
}

// subscribe opens a SUB socket on port (notification or iopub).
func (p *peer) subscribe(port int) *transport.Socket {
	s, _ := p.zctx.NewSocket(transport.Sub)
	s.Subscribe("")
	if err := s.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", port)); err != nil {
		p.t.Fatal(err)
	}
	p.subs = append(p.subs, s)
	return s
}

func (p *peer) send(idents [][]byte, msgType string, metadata, content any) wire.Header {
	p.t.Helper()
	h := p.session.NewHeader(msgType)
	frames, err := p.session.Serialize(&wire.Message{Idents: idents, Header: h, Metadata: metadata, Content: content})
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.sock.Send(frames); err != nil {
		p.t.Fatal(err)
	}
	return h
}

// recvOn waits up to d for a message on s.
func recvOn(s *transport.Socket, d time.Duration) ([][]byte, bool) {
	var frames [][]byte
	var err error
	ok := testutil.Within(d, func() bool {
		var got bool
		frames, got, err = s.TryRecv()
		return got || err != nil
	})
	return frames, ok && err == nil
}

// reply is a decoded message for assertions.
type reply struct {
	Idents   [][]byte
	Header   wire.Header
	Parent   wire.Header
	Metadata map[string]any
	Content  map[string]any
	Buffers  [][]byte
}

func (p *peer) decode(frames [][]byte) reply {
	p.t.Helper()
	r, err := p.session.Decode(frames)
	if err != nil {
		p.t.Fatalf("bad message from controller: %v", err)
	}
	var out reply
	out.Idents, out.Buffers = r.Idents, r.Buffers
	out.Header, _ = wire.ParseHeader(r.Header)
	json.Unmarshal(r.Parent, &out.Parent)
	json.Unmarshal(r.Metadata, &out.Metadata)
	json.Unmarshal(r.Content, &out.Content)
	return out
}

// request sends a query and waits for its reply.
func (p *peer) request(msgType string, content any) reply {
	p.t.Helper()
	h := p.send(nil, msgType, nil, content)
	frames, ok := recvOn(p.sock, 5*time.Second)
	if !ok {
		p.t.Fatalf("no reply to %s", msgType)
	}
	rep := p.decode(frames)
	if rep.Parent.MsgID != h.MsgID {
		p.t.Fatalf("reply to %s has parent %q, want %q", msgType, rep.Parent.MsgID, h.MsgID)
	}
	return rep
}

// checkNoGoroutineLeak fails if goroutines started by the test outlive it.
func checkNoGoroutineLeak(t *testing.T, before int) {
	t.Helper()
	testutil.Eventually(t, 5*time.Second, "goroutines to finish", func() bool {
		runtime.GC()
		return runtime.NumGoroutine() <= before
	})
}

func errorName(r reply) string {
	if r.Content["status"] != "error" {
		return ""
	}
	return fmt.Sprint(r.Content["ename"]) + ": " + fmt.Sprint(r.Content["evalue"])
}

func mustContain(t *testing.T, s, want string) {
	t.Helper()
	if !strings.Contains(s, want) {
		t.Fatalf("%q does not contain %q", s, want)
	}
}
