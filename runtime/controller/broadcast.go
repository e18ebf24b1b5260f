package controller

import (
	"encoding/json"

	"ipcluster/runtime/wire"
)

// broadcaster is ipyparallel's broadcast scheduler tree collapsed into one place: a request
// from the client's broadcast socket goes to each target engine through the leaf socket
// that engine connected to (engine id modulo the number of leaves), under the msg_id
// "<original>_<uuid>". Replies go back one by one, or, when coalescing, as one message
// carrying every engine's buffers in the order given by broadcast_targets.
type broadcaster struct {
	c       *Controller
	gathers map[string]*gather // original msg_id -> coalescing request
}

type gather struct {
	idents   [][]byte
	targets  []string       // uuids in the client's order
	ids      map[string]int // uuid -> engine id, from the request
	expected int
	last     *wire.Raw
	metadata map[string]json.RawMessage
	buffers  map[string][][]byte // uuid -> its reply's buffers
}

func newBroadcaster(c *Controller) *broadcaster {
	return &broadcaster{c: c, gathers: map[string]*gather{}}
}

// onRequest fans a broadcast request out to its targets.
func (b *broadcaster) onRequest(frames [][]byte) {
	r, ok := b.c.decode("broadcast", frames)
	if !ok {
		return
	}
	hdr, err := wire.ParseHeader(r.Header)
	var md map[string]json.RawMessage
	if err == nil {
		err = json.Unmarshal(r.Metadata, &md)
	}
	if err != nil {
		b.c.log.Warn("dropped malformed broadcast request", "peer", peerName(frames), "err", err)
		return
	}
	var targets [][2]any
	var coalescing bool
	var original string
	json.Unmarshal(md["targets"], &targets)
	json.Unmarshal(md["is_coalescing"], &coalescing)
	json.Unmarshal(md["original_msg_id"], &original)
	if original == "" {
		original = hdr.MsgID
	}
	md["original_msg_id"], _ = json.Marshal(original)

	leaves := len(b.c.bcastLeaves)
	subsets := make([][][2]any, leaves)
	ids := map[string]int{}
	for _, t := range targets {
		uuid, _ := t[0].(string)
		id, _ := t[1].(float64)
		ids[uuid] = int(id)
		leaf := int(id) % leaves
		subsets[leaf] = append(subsets[leaf], t)
	}
	if coalescing {
		g := &gather{idents: r.Idents, ids: ids, expected: len(targets), buffers: map[string][][]byte{}}
		for _, t := range targets {
			uuid, _ := t[0].(string)
			g.targets = append(g.targets, uuid)
		}
		b.gathers[original] = g
	}
	for _, t := range targets {
		uuid, _ := t[0].(string)
		leaf := ids[uuid] % leaves
		md["targets"], _ = json.Marshal(subsets[leaf])
		mdBytes, _ := wire.Marshal(md)
		header, err := wire.RewriteMsgID(r.Header, original+"_"+uuid)
		if err != nil {
			continue
		}
		m := &wire.Raw{
			Idents: append([][]byte{[]byte(uuid)}, r.Idents...),
			Header: header, Parent: r.Parent, Metadata: mdBytes, Content: r.Content, Buffers: r.Buffers,
		}
		b.c.session.Resign(m)
		b.c.sendToEngine(b.c.bcastLeaves[leaf], m.Frames(), func() { b.unreachable(original, uuid, r.Idents, header, hdr.MsgType) })
	}
}

// unreachable answers for an engine that never got its copy.
func (b *broadcaster) unreachable(original, uuid string, idents [][]byte, header []byte, msgType string) {
	if g := b.gathers[original]; g != nil {
		g.expected--
		b.maybeFinish(original, g)
		return
	}
	replyType := msgType[:len(msgType)-len("request")] + "reply"
	md := map[string]any{"status": "error", "engine": uuid, "is_broadcast": true, "is_coalescing": false, "original_msg_id": original}
	b.c.reply(b.c.bcastIn, idents, replyType, header, md, errorContent("EngineError", "Engine "+pyRepr(uuid)+" is not connected", "broadcast"), nil)
}

// onReply passes an engine's reply back to the client, or gathers it when coalescing.
func (b *broadcaster) onReply(leaf int, frames [][]byte) {
	r, ok := b.c.decode("broadcast", frames)
	if !ok {
		return
	}
	if len(r.Idents) < 2 {
		b.c.log.Warn("dropped broadcast reply without a client identity", "peer", peerName(frames))
		return
	}
	var md map[string]json.RawMessage
	json.Unmarshal(r.Metadata, &md)
	var coalescing bool
	var original string
	json.Unmarshal(md["is_coalescing"], &coalescing)
	json.Unmarshal(md["original_msg_id"], &original)
	g := b.gathers[original]
	if !coalescing || g == nil {
		b.c.send(b.c.bcastIn, frames[1:])
		return
	}
	uuid := string(r.Idents[0])
	g.last, g.metadata = r, md
	g.buffers[uuid] = r.Buffers
	b.maybeFinish(original, g)
}

// maybeFinish sends the coalesced reply once every target has answered, with the results
// in the order the client listed the targets (ipyparallel uses arrival order, so results
// come back shuffled).
func (b *broadcaster) maybeFinish(original string, g *gather) {
	if len(g.buffers) < g.expected || g.last == nil {
		return
	}
	delete(b.gathers, original)
	var order [][]any
	var buffers [][]byte
	for _, uuid := range g.targets {
		if bufs, ok := g.buffers[uuid]; ok {
			order = append(order, []any{uuid, g.ids[uuid]})
			buffers = append(buffers, bufs...)
		}
	}
	g.metadata["broadcast_targets"], _ = json.Marshal(order)
	mdBytes, _ := wire.Marshal(g.metadata)
	m := &wire.Raw{Idents: g.idents, Header: g.last.Header, Parent: g.last.Parent, Metadata: mdBytes, Content: g.last.Content, Buffers: buffers}
	b.c.session.Resign(m)
	b.c.send(b.c.bcastIn, m.Frames())
}
