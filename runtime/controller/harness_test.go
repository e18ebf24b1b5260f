package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/testutil"
	"ipcluster/profiles"
	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
	"ipcluster/runtime/wire/wiretest"
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
	*wiretest.Peer
	t    *testing.T
	sock *transport.Socket
}

// reply is a decoded message for assertions.
type reply = wiretest.Msg

func newPeer(t *testing.T, key string, identity string, port int) *peer {
	t.Helper()
	w := wiretest.New(t, key, "hmac-sha256")
	return &peer{Peer: w, t: t, sock: w.Connect(transport.Dealer, wiretest.Local(port), identity)}
}

// subscribe opens a SUB socket on port (notification or iopub).
func (p *peer) subscribe(port int) *transport.Socket {
	return p.Connect(transport.Sub, wiretest.Local(port), "")
}

func (p *peer) send(idents [][]byte, msgType string, metadata, content any) wire.Header {
	return p.Send(p.sock, idents, msgType, metadata, content)
}

func (p *peer) decode(frames [][]byte) reply { return p.MustDecode(frames) }

// request sends a query and waits for its reply.
func (p *peer) request(msgType string, content any) reply {
	return p.Request(p.sock, msgType, content, 5*time.Second)
}

// recvOn waits up to d for a message on s.
func recvOn(s *transport.Socket, d time.Duration) ([][]byte, bool) { return wiretest.Recv(s, d) }

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
