package controller

import (
	"sync/atomic"
	"testing"
	"time"

	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
	"ipcluster/runtime/wire/wiretest"
)

// fakeEngine speaks the engine side of the protocol just enough to register, beat, and
// answer requests on its shell socket (with apply_reply/execute_reply "ok", or an error when
// the request's content has "fail": true).
type fakeEngine struct {
	t      *testing.T
	uuid   string
	id     int
	peer   *wiretest.Peer
	echo   atomic.Bool // answer heartbeats
	serve  atomic.Bool // answer shell requests
	served atomic.Int32
}

func startFakeEngine(t *testing.T, r *running) *fakeEngine {
	t.Helper()
	uuid := wire.NewID()
	w := wiretest.NewWithID(t, uuid, r.client.Key, "hmac-sha256")
	e := &fakeEngine{t: t, uuid: uuid, peer: w}
	e.echo.Store(true)
	e.serve.Store(true)

	reg := w.Connect(transport.Dealer, wiretest.Local(r.engine.Registration), uuid)
	rr := w.Request(reg, "registration_request", map[string]any{"uuid": uuid}, 5*time.Second)
	if rr.Content["status"] != "ok" {
		t.Fatalf("registration refused: %v", rr.Content)
	}
	e.id = int(rr.Content["id"].(float64))

	shell := w.Connect(transport.Router, wiretest.Local(r.engine.Mux), uuid)
	for _, port := range []int{r.engine.Task, r.engine.Broadcast[e.id%len(r.engine.Broadcast)]} {
		if err := shell.Connect(wiretest.Local(port)); err != nil {
			t.Fatal(err)
		}
	}
	hbSub := w.Connect(transport.Sub, wiretest.Local(r.engine.HBPing), "")
	hbOut := w.Connect(transport.Dealer, wiretest.Local(r.engine.HBPong), uuid)
	w.Serve(hbOut, nil)
	w.Serve(hbSub, func(ping [][]byte) {
		if e.echo.Load() {
			hbOut.Send(ping)
		}
	})
	w.Serve(shell, func(req [][]byte) {
		if e.serve.Load() {
			e.answer(shell, req)
		}
	})
	w.Start()
	return e
}

func (e *fakeEngine) answer(shell *transport.Socket, frames [][]byte) {
	m, err := e.peer.Decode(frames)
	if err != nil {
		e.t.Errorf("fake engine got a bad message: %v", err)
		return
	}
	e.served.Add(1)
	status := "ok"
	reply := map[string]any{"status": "ok"}
	if m.Content["fail"] == true {
		status = "error"
		reply = map[string]any{"status": "error", "ename": "RuntimeError", "evalue": "asked to fail", "traceback": []string{}}
	}
	md := m.Metadata
	meta := map[string]any{"started": wire.Now(), "dependencies_met": true, "engine": e.uuid, "status": status,
		"is_broadcast": md["is_broadcast"] == true, "is_coalescing": md["is_coalescing"] == true, "original_msg_id": md["original_msg_id"]}
	replyType := m.Header.MsgType[:len(m.Header.MsgType)-len("request")] + "reply"
	e.peer.Reply(shell, m, replyType, meta, reply, [][]byte{[]byte(e.uuid)})
}

// kill stops the fake engine abruptly, like SIGKILL: no unregistration.
func (e *fakeEngine) kill() { e.peer.Stop() }
