package client

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

const (
	benchKey    = "5f2cd0b4-6e7a0b1c2d3e4f5061728394"
	benchEngine = "777adb3d-903d8766d586eb7cd7f749e1"
)

// memClient is a Client whose loop never runs: tests call its handlers directly. Engine 0
// (benchEngine) is registered.
func memClient(tb testing.TB) *Client {
	tb.Helper()
	s, err := wire.NewSession([]byte(benchKey), "hmac-sha256")
	if err != nil {
		tb.Fatal(err)
	}
	zctx, err := transport.NewContext()
	if err != nil {
		tb.Fatal(err)
	}
	loop, err := transport.NewLoop(zctx)
	if err != nil {
		tb.Fatal(err)
	}
	opts := Options{Logger: slog.New(slog.DiscardHandler)}
	opts.setDefaults()
	c := &Client{log: opts.Logger, opts: opts, session: s, loop: loop, done: make(chan struct{}),
		pending: map[string]*request{}, waiters: map[string]*waiter{}, cause: ErrClosed}
	tb.Cleanup(func() {
		select {
		case <-c.done: // runLoop ran it
		default:
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			loop.Run(ctx) // closes the loop's sockets
		}
		zctx.Term()
	})
	c.enc = newEncoder(s)
	c.engines.init()
	c.engines.add(0, benchEngine)
	return c
}

// runLoop runs a memClient's loop until the test ends.
func runLoop(t *testing.T, c *Client) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		c.loop.Run(ctx)
		close(c.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-c.done
	})
}

// engineMessages are what a Go engine sends for one request: busy, the reply, idle.
type engineMessages struct{ busy, reply, idle [][]byte }

// engineAnswers makes the messages a Go engine sends for each request header.
func engineAnswers(tb testing.TB, headers [][]byte) []engineMessages {
	tb.Helper()
	es, err := wire.NewSessionWithID(benchEngine, []byte(benchKey), "hmac-sha256")
	if err != nil {
		tb.Fatal(err)
	}
	iopub := func(parent []byte, state string) [][]byte {
		f, err := es.Reply([][]byte{[]byte("engine.0.status")}, "status", parent, map[string]any{"engine": benchEngine},
			map[string]any{"execution_state": state}, nil)
		if err != nil {
			tb.Fatal(err)
		}
		return f
	}
	out := make([]engineMessages, len(headers))
	for i, h := range headers {
		md := map[string]any{"dependencies_met": true, "engine": benchEngine, "is_broadcast": false, "is_coalescing": false,
			"original_msg_id": "", "started": wire.Now(), "status": "ok"}
		content := map[string]any{"status": "ok", "execution_count": 0, "user_expressions": map[string]any{}, "payload": []any{}}
		reply, err := es.Reply(nil, "execute_reply", h, md, content, nil)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = engineMessages{busy: iopub(h, "busy"), reply: reply, idle: iopub(h, "idle")}
	}
	return out
}

// BenchmarkSubmitEncode is the serialization of one load-balanced task.
func BenchmarkSubmitEncode(b *testing.B) {
	c := memClient(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.encodeTask("", TaskOptions{}, []string{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReceive is the client's Go work for the answers to one task: the engine's busy
// and idle statuses and its reply (in both orders), until the Future is done.
func BenchmarkReceive(b *testing.B) {
	for _, idleFirst := range []bool{true, false} {
		b.Run(fmt.Sprintf("idleFirst=%v", idleFirst), func(b *testing.B) {
			c := memClient(b)
			const batch = 1000
			var ids []string
			var answers []engineMessages
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i%batch == 0 { // fresh messages: the client refuses replayed signatures
					b.StopTimer()
					ids = ids[:0]
					var headers [][]byte
					for range batch {
						id, frames, err := c.encodeTask("", TaskOptions{}, []string{})
						if err != nil {
							b.Fatal(err)
						}
						r, _ := wire.Split(frames)
						ids, headers = append(ids, id), append(headers, r.Header)
					}
					answers = engineAnswers(b, headers)
					b.StartTimer()
				}
				f, req := c.newFuture(ids[i%batch], "", false)
				c.pending[f.msgID] = req
				a := answers[i%batch]
				c.onIOPub(a.busy)
				if idleFirst {
					c.onIOPub(a.idle)
					c.onReply(a.reply)
				} else {
					c.onReply(a.reply)
					c.onIOPub(a.idle)
				}
				select {
				case <-f.done:
				default:
					b.Fatalf("request %d not done", i)
				}
				if f.res.Err != nil || f.res.EngineID != 0 || f.res.Started.IsZero() {
					b.Fatalf("result %+v", f.res)
				}
			}
		})
	}
}

// TestGraceDeliversWithoutIdle: a reply whose "idle" never comes is delivered OutputGrace
// after it arrived; one whose "idle" comes is delivered at once.
func TestGraceDeliversWithoutIdle(t *testing.T) {
	c := memClient(t)
	c.opts.OutputGrace = 150 * time.Millisecond
	runLoop(t, c)
	var ids []string
	var headers [][]byte
	for range 4 {
		id, frames, err := c.encodeTask("", TaskOptions{}, []string{})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := wire.Split(frames)
		ids, headers = append(ids, id), append(headers, r.Header)
	}
	answers := engineAnswers(t, headers)
	futs := make([]*Future, len(ids))
	replied := make([]time.Time, len(ids))
	on := func(f func()) {
		if err := c.do(f); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ids {
		on(func() {
			var req *request
			futs[i], req = c.newFuture(id, "", false)
			c.pending[id] = req
		})
	}
	doneAt := make([]time.Time, len(ids))
	var watchers sync.WaitGroup
	for i, f := range futs {
		watchers.Go(func() {
			<-f.Done()
			doneAt[i] = time.Now()
		})
	}
	defer watchers.Wait()
	// 0 and 2 never get their idle; 1 gets it after its reply, 3 before.
	for i := range ids {
		if i == 3 {
			on(func() { c.onIOPub(answers[i].idle) })
		}
		replied[i] = time.Now()
		on(func() { c.onReply(answers[i].reply) })
		if i == 1 {
			on(func() { c.onIOPub(answers[i].idle) })
		}
		// Not a wait for readiness: the requests' replies are spread out in time on purpose,
		// so that each one's delivery time can be told apart from the others'.
		time.Sleep(40 * time.Millisecond)
	}
	watchers.Wait()
	for i, f := range futs {
		res, err := f.Wait(context.Background())
		if err != nil || res.Status != "ok" {
			t.Errorf("request %d: %+v %v", i, res, err)
		}
		if (i == 1 || i == 3) && !doneAt[i].Before(replied[i].Add(c.opts.OutputGrace)) {
			t.Errorf("request %d with idle delivered after %s", i, doneAt[i].Sub(replied[i]))
		}
		if (i == 0 || i == 2) && doneAt[i].Sub(replied[i]) < c.opts.OutputGrace {
			t.Errorf("request %d without idle delivered after %s, want %s", i, doneAt[i].Sub(replied[i]), c.opts.OutputGrace)
		}
	}
	on(func() {
		if len(c.pending) != 0 || len(c.graceQueue) != 0 {
			t.Errorf("left: %d pending, %d waiting for idle", len(c.pending), len(c.graceQueue))
		}
	})
}
