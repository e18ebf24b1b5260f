package client

import (
	"context"
	"encoding/json"
	"fmt"

	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

// call is one request answered by one reply: a Hub query on the registration socket, or a
// control request to one engine.
type call struct {
	sock       *transport.Socket
	engine     string // control requests: the target engine's uuid, sent as the first frame
	msgType    string
	content    any
	goneOK     bool   // the engine unregistering answers the call (it was asked to shut down)
	beforeSend func() // runs on the loop just before the request is sent
}

// waiter is a call waiting for its reply; the loop settles it once.
type waiter struct {
	ch     chan callResult // buffered: settling never blocks the loop
	engine string
	goneOK bool
}

type callResult struct {
	r   *wire.Raw // nil when the engine's unregistration answered the call
	err error
}

func (w *waiter) settle(r *wire.Raw, err error) {
	select {
	case w.ch <- callResult{r, err}:
	default:
	}
}

// gone is the answer when the target engine unregisters before replying.
func (w *waiter) gone(id int) error {
	if w.goneOK {
		return nil
	}
	return &RemoteError{EngineID: -1, Name: "EngineError", Value: fmt.Sprintf("engine %d unregistered before it replied", id)}
}

// call sends the request and waits for its reply. A reply whose status is not "ok" becomes
// a *RemoteError. The result is nil (and no error) only when an engine asked to shut down
// unregistered instead of replying.
func (c *Client) call(ctx context.Context, k call) (*wire.Raw, error) {
	hdr := c.session.NewHeader(k.msgType)
	var idents [][]byte
	if k.engine != "" {
		idents = [][]byte{[]byte(k.engine)}
	}
	frames, err := c.session.Serialize(&wire.Message{Idents: idents, Header: hdr, Content: k.content})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.msgType, err)
	}
	w := &waiter{ch: make(chan callResult, 1), engine: k.engine, goneOK: k.goneOK}
	c.loop.Post(func() {
		if k.engine != "" && !c.engines.registered(k.engine) {
			w.settle(nil, w.gone(c.engines.idOf(k.engine)))
			return
		}
		if k.beforeSend != nil {
			k.beforeSend()
		}
		c.waiters[hdr.MsgID] = w
		if err := k.sock.Send(frames); err != nil {
			delete(c.waiters, hdr.MsgID)
			w.settle(nil, fmt.Errorf("send: %w", err))
		}
	})
	var res callResult
	select {
	case res = <-w.ch:
	case <-ctx.Done():
		c.loop.Post(func() { delete(c.waiters, hdr.MsgID) })
		return nil, fmt.Errorf("%s: %w", k.msgType, context.Cause(ctx))
	case <-c.done:
		select {
		case res = <-w.ch:
		default:
			res.err = c.closedErr()
		}
	}
	if res.err != nil {
		return nil, fmt.Errorf("%s: %w", k.msgType, res.err)
	}
	if res.r == nil {
		return nil, nil
	}
	if err := statusError(res.r.Content, c.engines.idOf(k.engine)); err != nil {
		return res.r, fmt.Errorf("%s: %w", k.msgType, err)
	}
	return res.r, nil
}

// onSingleReply settles the call a reply on the registration or control socket answers.
func (c *Client) onSingleReply(frames [][]byte) {
	r, ok := c.decode("reply", frames)
	if !ok {
		return
	}
	msgID, _ := parentID(r)
	if w := c.waiters[string(msgID)]; w != nil {
		delete(c.waiters, string(msgID))
		w.settle(r, nil)
	}
}

// errorContent is the "wrapped exception" content of an error reply.
type errorContent struct {
	Status     string          `json:"status"`
	Ename      string          `json:"ename"`
	Evalue     string          `json:"evalue"`
	Traceback  []string        `json:"traceback"`
	EngineInfo json.RawMessage `json:"engine_info"`
}

// fromEngine reports whether the error names an engine (a non-empty engine_info); errors
// the controller makes carry an empty one.
func (e *errorContent) fromEngine() bool {
	s := string(e.EngineInfo)
	return s != "" && s != "{}" && s != "null"
}

// statusError is nil for a reply with status "ok", else the error it carries. engineID
// names the engine for errors that an engine reported.
func statusError(content []byte, engineID int) error {
	var e errorContent
	if err := json.Unmarshal(content, &e); err != nil {
		return fmt.Errorf("malformed reply content: %w", err)
	}
	if e.Status == "ok" {
		return nil
	}
	if !e.fromEngine() {
		engineID = -1
	}
	if e.Ename == "" {
		e.Ename = "status " + e.Status
	}
	return &RemoteError{EngineID: engineID, Name: e.Ename, Value: e.Evalue, Traceback: e.Traceback}
}
