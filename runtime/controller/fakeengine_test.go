package controller

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

// fakeEngine speaks the engine side of the protocol just enough to register, beat, and
// answer requests on its shell socket (with apply_reply/execute_reply "ok", or an error when
// the request's content has "fail": true).
type fakeEngine struct {
	t       *testing.T
	uuid    string
	id      int
	session *wire.Session
	zctx    *transport.Context
	echo    atomic.Bool // answer heartbeats
	serve   atomic.Bool // answer shell requests
	served  atomic.Int32
	done    chan struct{}
	stopped chan struct{}
}

func startFakeEngine(t *testing.T, r *running) *fakeEngine {
	t.Helper()
	zctx, _ := transport.NewContext()
	uuid := wire.NewID()
	session, _ := wire.NewSessionWithID(uuid, []byte(r.client.Key), "hmac-sha256")
	e := &fakeEngine{t: t, uuid: uuid, session: session, zctx: zctx, done: make(chan struct{}), stopped: make(chan struct{})}
	e.echo.Store(true)
	e.serve.Store(true)
	url := func(port int) string { return fmt.Sprintf("tcp://127.0.0.1:%d", port) }

	reg, _ := zctx.NewSocket(transport.Dealer)
	reg.SetIdentity([]byte(uuid))
	reg.Connect(url(r.engine.Registration))
	frames, _ := session.Reply(nil, "registration_request", nil, nil, map[string]any{"uuid": uuid}, nil)
	reg.Send(frames)
	got, ok := recvOn(reg, 5*time.Second)
	if !ok {
		t.Fatal("no registration reply")
	}
	rr, err := session.Decode(got)
	if err != nil {
		t.Fatal(err)
	}
	var content struct {
		Status string
		ID     int
	}
	json.Unmarshal(rr.Content, &content)
	if content.Status != "ok" {
		t.Fatalf("registration refused: %s", rr.Content)
	}
	e.id = content.ID

	shell, _ := zctx.NewSocket(transport.Router)
	shell.SetIdentity([]byte(uuid))
	shell.Connect(url(r.engine.Mux))
	shell.Connect(url(r.engine.Task))
	shell.Connect(url(r.engine.Broadcast[e.id%len(r.engine.Broadcast)]))
	hbSub, _ := zctx.NewSocket(transport.Sub)
	hbSub.Subscribe("")
	hbSub.Connect(url(r.engine.HBPing))
	hbOut, _ := zctx.NewSocket(transport.Dealer)
	hbOut.SetIdentity([]byte(uuid))
	hbOut.Connect(url(r.engine.HBPong))

	go func() {
		defer close(e.stopped)
		defer func() {
			for _, s := range []*transport.Socket{reg, shell, hbSub, hbOut} {
				s.SetLinger(0)
				s.Close()
			}
			zctx.Term()
		}()
		for {
			select {
			case <-e.done:
				return
			default:
			}
			idle := true
			if ping, ok, _ := hbSub.TryRecv(); ok {
				idle = false
				if e.echo.Load() {
					hbOut.Send(ping)
				}
			}
			if req, ok, _ := shell.TryRecv(); ok {
				idle = false
				if e.serve.Load() {
					e.answer(shell, req)
				}
			}
			if idle {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	t.Cleanup(e.kill)
	return e
}

func (e *fakeEngine) answer(shell *transport.Socket, frames [][]byte) {
	r, err := e.session.Decode(frames)
	if err != nil {
		e.t.Errorf("fake engine got a bad message: %v", err)
		return
	}
	e.served.Add(1)
	h, _ := wire.ParseHeader(r.Header)
	var content struct{ Fail bool }
	json.Unmarshal(r.Content, &content)
	var md map[string]any
	json.Unmarshal(r.Metadata, &md)
	status := "ok"
	reply := map[string]any{"status": "ok"}
	if content.Fail {
		status = "error"
		reply = map[string]any{"status": "error", "ename": "RuntimeError", "evalue": "asked to fail", "traceback": []string{}}
	}
	meta := map[string]any{"started": wire.Now(), "dependencies_met": true, "engine": e.uuid, "status": status,
		"is_broadcast": md["is_broadcast"] == true, "is_coalescing": md["is_coalescing"] == true, "original_msg_id": md["original_msg_id"]}
	replyType := h.MsgType[:len(h.MsgType)-len("request")] + "reply"
	out, _ := e.session.Reply(r.Idents, replyType, r.Header, meta, reply, [][]byte{[]byte(e.uuid)})
	shell.Send(out)
}

// kill stops the fake engine abruptly, like SIGKILL: no unregistration.
func (e *fakeEngine) kill() {
	select {
	case <-e.done:
	default:
		close(e.done)
	}
	<-e.stopped
}
