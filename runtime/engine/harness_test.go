package engine_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"ipcluster/internal/testutil"
	"ipcluster/profiles"
	"ipcluster/runtime/controller"
	"ipcluster/runtime/engine"
	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire/wiretest"
)

// waitLong bounds every wait of these tests: generous, because the machine is shared.
const waitLong = 20 * time.Second

// newLogger is a debug logger for a test's controller or engine, shown only if it fails.
func newLogger(t *testing.T, name string) *slog.Logger {
	log, _ := testutil.Logger(t, name)
	return log
}

// cluster is an in-process Go controller (100 ms heartbeat) and a test client.
type cluster struct {
	t          *testing.T
	profileDir string
	info       profiles.EngineInfo
	client     *testClient
	stopCtl    context.CancelFunc
	ctlDone    chan error
	stopOnce   sync.Once
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	dir := t.TempDir()
	ctl, err := controller.New(controller.Config{ProfileDir: dir, Ping: 100 * time.Millisecond, Logger: newLogger(t, "controller")})
	if err != nil {
		t.Fatalf("controller: %v", err)
	}
	cl := &cluster{t: t, profileDir: dir, ctlDone: make(chan error, 1)}
	if err := profiles.ReadJSON(ctl.EngineFile(), &cl.info); err != nil {
		t.Fatal(err)
	}
	var ci profiles.ClientInfo
	if err := profiles.ReadJSON(ctl.ClientFile(), &ci); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cl.stopCtl = cancel
	go func() { cl.ctlDone <- ctl.Run(ctx) }()
	t.Cleanup(func() { cl.stopController() })
	cl.client = newTestClient(t, ci)
	return cl
}

// stopController stops the controller and waits for it (once).
func (cl *cluster) stopController() {
	cl.stopOnce.Do(func() {
		cl.stopCtl()
		select {
		case <-cl.ctlDone:
		case <-time.After(waitLong):
			cl.t.Error("controller did not stop")
		}
	})
}

// runningEngine is an engine serving in a goroutine.
type runningEngine struct {
	*engine.Engine
	id     int
	cancel context.CancelFunc
	done   chan error
}

// startEngine runs an engine with cfg (Info and Logger filled in) and waits until the
// controller announces it.
func (cl *cluster) startEngine(cfg engine.Config) *runningEngine {
	t := cl.t
	t.Helper()
	re := cl.launch(cfg)
	n := cl.client.waitFor("registration of "+re.UUID(), func(m got) bool {
		return m.Header.MsgType == "registration_notification" && m.Content["uuid"] == re.UUID()
	})
	re.id = int(n.Content["id"].(float64))
	return re
}

// launch runs an engine without waiting for its registration.
func (cl *cluster) launch(cfg engine.Config) *runningEngine {
	t := cl.t
	t.Helper()
	if cfg.Info.Registration == 0 {
		cfg.Info = cl.info
	}
	if cfg.Logger == nil {
		cfg.Logger = newLogger(t, "engine")
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = t.TempDir()
	}
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	re := &runningEngine{Engine: e, id: -1, cancel: cancel, done: make(chan error, 1)}
	go func() { re.done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-re.done:
		case <-time.After(waitLong):
			t.Error("engine did not stop")
		}
	})
	return re
}

// wait returns Run's result, failing the test if it takes longer than limit.
func (re *runningEngine) wait(t *testing.T, limit time.Duration) error {
	t.Helper()
	select {
	case err := <-re.done:
		re.done <- err // for the cleanup
		return err
	case <-time.After(limit):
		t.Fatalf("engine still running after %s", limit)
		return nil
	}
}

// got is a message the test client received; Socket names the socket it came on.
type got = wiretest.Msg

// testClient talks to the controller like ipyparallel's Client: DEALERs to mux, control
// and task, SUBs to iopub and notification. Everything received is kept in order.
type testClient struct {
	*wiretest.Peer
	t                  *testing.T
	mux, control, task *transport.Socket
}

func newTestClient(t *testing.T, ci profiles.ClientInfo) *testClient {
	t.Helper()
	c := &testClient{Peer: wiretest.New(t, ci.Key, ci.SignatureScheme), t: t}
	for _, s := range []struct {
		sock **transport.Socket
		kind transport.Kind
		port int
		name string
	}{
		{&c.mux, transport.Dealer, ci.Mux, "mux"}, {&c.control, transport.Dealer, ci.Control, "control"},
		{&c.task, transport.Dealer, ci.Task, "task"}, {nil, transport.Sub, ci.IOPub, "iopub"},
		{nil, transport.Sub, ci.Notification, "notification"},
	} {
		sock := c.Connect(s.kind, fmt.Sprintf("%s:%d", ci.Interface, s.port), "")
		c.Record(sock, s.name)
		if s.sock != nil {
			*s.sock = sock
		}
	}
	c.Start()
	return c
}

// send sends a request to engine uuid (empty: load-balanced, on the task socket) and
// returns its msg_id.
func (c *testClient) send(sock *transport.Socket, target, msgType string, content, metadata any) string {
	var idents [][]byte
	if target != "" {
		idents = [][]byte{[]byte(target)}
	}
	return c.Send(sock, idents, msgType, metadata, content).MsgID
}

// execute sends an execute_request through mux.
func (c *testClient) execute(uuid, code string, silent bool) string {
	return c.send(c.mux, uuid, "execute_request", map[string]any{"code": code, "silent": silent, "user_expressions": map[string]any{}}, nil)
}

// waitFor returns the first message (in arrival order) matching pred.
func (c *testClient) waitFor(what string, pred func(got) bool) got {
	c.t.Helper()
	return c.WaitFor(waitLong, what, pred)
}

// reply waits for the reply to msgID.
func (c *testClient) reply(msgID string) got {
	c.t.Helper()
	return c.waitFor("reply to "+msgID, func(m got) bool {
		return m.Socket != "iopub" && m.Parent.MsgID == msgID && strings.HasSuffix(m.Header.MsgType, "_reply")
	})
}

// idle waits for the iopub idle status of msgID (ipyparallel's "outputs complete").
func (c *testClient) idle(msgID string) got {
	c.t.Helper()
	return c.waitFor("idle after "+msgID, func(m got) bool {
		return m.Socket == "iopub" && m.Parent.MsgID == msgID && m.Header.MsgType == "status" && m.Content["execution_state"] == "idle"
	})
}

// iopub returns the iopub messages received so far for msgID, in order.
func (c *testClient) iopubFor(msgID string) []got {
	var out []got
	for _, m := range c.Received() {
		if m.Socket == "iopub" && m.Parent.MsgID == msgID {
			out = append(out, m)
		}
	}
	return out
}

// stream returns the text of msgID's stream messages named name (stdout, stderr).
func (c *testClient) stream(msgID, name string) string {
	var b strings.Builder
	for _, m := range c.iopubFor(msgID) {
		if m.Header.MsgType == "stream" && m.Content["name"] == name {
			b.WriteString(m.Content["text"].(string))
		}
	}
	return b.String()
}
