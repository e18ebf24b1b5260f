package controller

import (
	"errors"
	"strings"
	"time"

	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

// An engine's shell and control sockets connect a moment after its heart first beats; a
// message routed to it in that moment is retried for a while instead of being lost.
const (
	unroutableRetry   = 5 * time.Millisecond
	unroutableGiveUp  = 2 * time.Second
	unknownEngineName = "EngineError"
)

// sendToEngine sends frames (first frame: the engine's uuid) on an engine-facing ROUTER,
// retrying while the engine is registered but not yet connected; onFail runs if it never
// becomes reachable.
func (c *Controller) sendToEngine(s *transport.Socket, frames [][]byte, onFail func()) {
	err := c.send(s, frames)
	if !errors.Is(err, transport.ErrUnroutable) {
		return
	}
	deadline := time.Now().Add(unroutableGiveUp)
	var retry func()
	retry = func() {
		err := c.send(s, frames)
		switch {
		case !errors.Is(err, transport.ErrUnroutable):
		case time.Now().After(deadline) || c.hub.byUUID[string(frames[0])] == nil:
			c.log.Warn("engine unreachable; request failed", "engine", string(frames[0]))
			onFail()
		default:
			c.loop.After(unroutableRetry, retry)
		}
	}
	c.loop.After(unroutableRetry, retry)
}

// relayRequest is the direct (mux) and control path from a client: [client, engine, msg]
// becomes [engine, client, msg] on the engine side, byte for byte.
func (c *Controller) relayRequest(where string, out, in *transport.Socket, frames [][]byte) (*wire.Raw, bool) {
	r, ok := c.decode(where, frames)
	if !ok {
		return nil, false
	}
	if len(r.Idents) < 2 {
		c.log.Warn("dropped request without a target engine", "socket", where, "peer", peerName(frames))
		return nil, false
	}
	client, target := r.Idents[0], r.Idents[1]
	r.Idents[0], r.Idents[1] = target, client
	if c.hub.byUUID[string(target)] == nil {
		c.failUnroutable(in, client, target, r, "Engine "+pyRepr(string(target))+" is not registered")
		return nil, false
	}
	c.sendToEngine(out, frames, func() {
		c.failUnroutable(in, client, target, r, "Engine "+pyRepr(string(target))+" did not connect")
	})
	return r, true
}

// failUnroutable answers a request that cannot reach its engine, so the client does not
// wait forever (ipyparallel drops such requests silently).
func (c *Controller) failUnroutable(in *transport.Socket, client, target []byte, r *wire.Raw, why string) {
	h, err := wire.ParseHeader(r.Header)
	if err != nil {
		return
	}
	replyType := strings.TrimSuffix(h.MsgType, "_request") + "_reply"
	md := map[string]any{"status": "error", "engine": string(target), "dependencies_met": true}
	c.reply(in, [][]byte{client, target}, replyType, r.Header, md, errorContent(unknownEngineName, why, "relay"), nil)
}

// relayReply is the way back: [engine, client, msg] becomes [client, engine, msg].
func (c *Controller) relayReply(where string, in *transport.Socket, frames [][]byte) (*wire.Raw, bool) {
	r, ok := c.decode(where, frames)
	if !ok {
		return nil, false
	}
	if len(r.Idents) < 2 {
		c.log.Warn("dropped reply without a client identity", "socket", where, "peer", peerName(frames))
		return nil, false
	}
	r.Idents[0], r.Idents[1] = r.Idents[1], r.Idents[0]
	c.send(in, frames)
	return r, true
}

func (c *Controller) onMuxRequest(frames [][]byte) {
	if r, ok := c.relayRequest("mux", c.muxOut, c.muxIn, frames); ok {
		c.hub.saveQueueRequest(string(r.Idents[0]), r)
	}
}

func (c *Controller) onMuxReply(frames [][]byte) {
	if r, ok := c.relayReply("mux", c.muxIn, frames); ok {
		c.hub.saveQueueResult(string(r.Idents[1]), r)
	}
}

func (c *Controller) onControlRequest(frames [][]byte) {
	c.relayRequest("control", c.ctrlOut, c.ctrlIn, frames)
}

func (c *Controller) onControlReply(frames [][]byte) {
	c.relayReply("control", c.ctrlIn, frames)
}

// onIOPub republishes engine output unchanged (still signed by the engine) and lets the Hub
// record it.
func (c *Controller) onIOPub(frames [][]byte) {
	r, ok := c.decode("iopub", frames)
	if !ok {
		return
	}
	c.send(c.iopubOut, frames)
	c.hub.saveIOPub(r)
}
