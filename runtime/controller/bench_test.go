package controller

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"ipcluster/internal/testutil"
	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

// taskTraffic is pre-signed traffic for n load-balanced tasks as the Go client and engines
// send it: the submission, the reply as each engine would send it, and three iopub messages
// (busy, execute_input, idle).
type taskTraffic struct {
	submits [][][]byte
	replies [][][][]byte // [task][engine] frames without the engine's identity
	iopub   [][][]byte
	ids     []string
}

func makeTaskTraffic(b *testing.B, key string, engines []string, n int) *taskTraffic {
	client, _ := wire.NewSession([]byte(key), "hmac-sha256")
	sessions := make([]*wire.Session, len(engines))
	for i, uuid := range engines {
		sessions[i], _ = wire.NewSessionWithID(uuid, []byte(key), "hmac-sha256")
	}
	tt := &taskTraffic{}
	md := map[string]any{"after": []string{}, "follow": []string{}, "timeout": 0.0, "targets": []string{}, "retries": 0}
	content := map[string]any{"code": "", "silent": false, "store_history": true, "user_expressions": map[string]any{}, "allow_stdin": false}
	for range n {
		h := client.NewHeader("execute_request")
		frames, err := client.Serialize(&wire.Message{Idents: [][]byte{[]byte("bench-client")}, Header: h, Metadata: md, Content: content})
		if err != nil {
			b.Fatal(err)
		}
		parent := frames[3]
		tt.submits = append(tt.submits, frames)
		tt.ids = append(tt.ids, h.MsgID)
		var perEngine [][][]byte
		for i, s := range sessions {
			rmd := map[string]any{"started": wire.Now(), "dependencies_met": true, "engine": engines[i], "is_broadcast": false,
				"is_coalescing": false, "original_msg_id": "", "status": "ok"}
			rc := map[string]any{"status": "ok", "execution_count": 1, "user_expressions": map[string]any{}, "payload": []any{}}
			f, _ := s.Reply([][]byte{[]byte("bench-client")}, "execute_reply", parent, rmd, rc, nil)
			perEngine = append(perEngine, f)
		}
		tt.replies = append(tt.replies, perEngine)
		s := sessions[0]
		for _, m := range []struct {
			typ     string
			content map[string]any
		}{
			{"status", map[string]any{"execution_state": "busy"}},
			{"execute_input", map[string]any{"code": "", "execution_count": 1}},
			{"status", map[string]any{"execution_state": "idle"}},
		} {
			f, _ := s.Reply([][]byte{[]byte("engine.0." + m.typ)}, m.typ, parent, map[string]any{"engine": engines[0]}, m.content, nil)
			tt.iopub = append(tt.iopub, f)
		}
	}
	return tt
}

// BenchmarkTaskPath drives the controller's load-balanced task path in process (the loop
// is not running; the benchmark calls the handlers): with 4 engines and 32 tasks always
// waiting, each iteration submits a task, answers the oldest running one, and files its
// three iopub messages. Sends go through real zmq sockets (to DEALERs standing in for the
// engines), so part of the time is the transport's.
func BenchmarkTaskPath(b *testing.B) {
	for _, nodb := range []bool{false, true} {
		b.Run(fmt.Sprintf("nodb=%v", nodb), func(b *testing.B) { benchTaskPath(b, nodb) })
	}
}

func benchTaskPath(b *testing.B, nodb bool) {
	c, err := New(Config{ProfileDir: b.TempDir(), NoDB: nodb, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { // close without waiting for undelivered messages
		for _, s := range append([]*transport.Socket{c.query, c.notifier, c.muxIn, c.muxOut, c.ctrlIn, c.ctrlOut, c.taskIn,
			c.taskOut, c.bcastIn, c.iopubOut, c.iopubIn, c.hbPing, c.hbPong}, c.bcastLeaves...) {
			s.SetLinger(0)
		}
		c.loop.Stop()
		c.Run(context.Background())
	}()
	zctx, _ := transport.NewContext()
	var engines []string
	var socks []*transport.Socket
	for i := range 4 {
		uuid := wire.NewID()
		s, _ := zctx.NewSocket(transport.Dealer)
		s.SetIdentity([]byte(uuid))
		s.SetLinger(0)
		if err := s.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", c.engineInfo.Task)); err != nil {
			b.Fatal(err)
		}
		engines = append(engines, uuid)
		socks = append(socks, s)
		e := &engineEntry{id: i, uuid: uuid, queue: newOrderedSet(), tasks: newOrderedSet()}
		c.hub.engines[i], c.hub.byUUID[uuid] = e, e
	}
	defer func() {
		for _, s := range socks {
			s.Close()
		}
		zctx.Term()
	}()
	// wait until the controller's ROUTER knows every engine
	probe, _ := c.session.Reply(nil, "probe", nil, nil, nil, nil)
	for _, uuid := range engines {
		testutil.Eventually(b, 5*time.Second, "engine socket "+uuid+" to connect", func() bool {
			return c.taskOut.Send(append([][]byte{[]byte(uuid)}, probe...)) == nil
		})
	}
	for _, uuid := range engines {
		c.tasks.addEngine(uuid)
	}
	const backlog = 32
	n := b.N + backlog
	tt := makeTaskTraffic(b, c.cfg.Key, engines, n)
	drain := func() {
		for _, s := range socks {
			for {
				if _, ok, _ := s.TryRecv(); !ok {
					break
				}
			}
		}
	}
	engineOf := func(msgID string) int {
		for i, uuid := range engines {
			if c.tasks.pending[uuid][msgID] != nil {
				return i
			}
		}
		b.Fatalf("task %s is not running", msgID)
		return -1
	}
	for i := range backlog {
		c.tasks.onSubmit(tt.submits[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		c.tasks.onSubmit(tt.submits[backlog+i])
		e := engineOf(tt.ids[i])
		c.tasks.onResult(append([][]byte{[]byte(engines[e])}, tt.replies[i][e]...))
		for k := range 3 {
			c.onIOPub(tt.iopub[3*i+k])
		}
		if i%256 == 255 {
			drain()
		}
	}
	b.StopTimer()
	if got := len(c.tasks.allCompleted); got != b.N {
		b.Fatalf("%d tasks completed, want %d", got, b.N)
	}
}

// BenchmarkHubBookkeeping is the Hub's share of a task (request, destination, result, three
// iopub messages) without the scheduler and sockets.
func BenchmarkHubBookkeeping(b *testing.B) {
	c := &Controller{cfg: Config{ProfileDir: b.TempDir()}}
	c.cfg.setDefaults()
	c.log = c.cfg.Logger
	c.db = newDictDB(c.cfg.RecordLimit, c.cfg.SizeLimit)
	c.hub = newHub(c)
	engines := []string{wire.NewID()}
	e := &engineEntry{id: 0, uuid: engines[0], queue: newOrderedSet(), tasks: newOrderedSet()}
	c.hub.engines[0], c.hub.byUUID[engines[0]] = e, e
	tt := makeTaskTraffic(b, "bench-key", engines, b.N)
	c.session, _ = wire.NewSession([]byte("bench-key"), "hmac-sha256")
	decode := func(frames [][]byte) *wire.Raw {
		r, err := wire.Split(frames)
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := decode(tt.submits[i])
		hdr, _ := wire.ParseHeader(r.Header)
		c.hub.saveTaskRequest(r, hdr)
		c.hub.saveTaskDestination(tt.ids[i], engines[0])
		r = decode(append([][]byte{[]byte(engines[0])}, tt.replies[i][0]...))
		c.hub.saveTaskResult(r, parentMsgID(r), parseReplyMeta(r.Metadata))
		for k := range 3 {
			c.hub.saveIOPub(decode(tt.iopub[3*i+k]))
		}
	}
}
