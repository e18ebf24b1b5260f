package controller

import (
	"encoding/json"
	"errors"
	"strings"

	"ipcluster/runtime/wire"
)

// The Hub learns about requests from the relays (ipyparallel sends it copies over a monitor
// socket; here the relays call it directly) and keeps the task records behind the queries.

// newRecord starts a record from a request.
func newRecord(r *wire.Raw, h wire.Header) *Record {
	rec := &Record{
		MsgID:      h.MsgID,
		Buffers:    cloneFrames(r.Buffers),
		Submitted:  h.Date,
		ClientUUID: h.Session,
	}
	rec.Header, rec.Content, rec.Metadata = clone3(r.Header, r.Content, r.Metadata)
	return rec
}

var labelName = []string{"label"}

// labelOf is the "label" member of request metadata, as ipyparallel 9.1's Hub keeps it
// (metadata.get('label')): nil when absent or null. It shares the metadata's bytes. A
// record's label is found from its metadata when asked for (Record.label), so that tasks
// pay nothing for it.
func labelOf(metadata json.RawMessage) json.RawMessage {
	var m [1]wire.Member
	if wire.ScanObject(metadata, labelName, m[:]) {
		switch v := m[0]; v.Kind {
		case wire.KindAbsent:
			return nil
		case wire.KindString: // the bytes between the quotes, a subslice of metadata: add the quotes
			at := cap(metadata) - cap(v.Raw)
			return metadata[at-1 : at+len(v.Raw)+1 : at+len(v.Raw)+1]
		default:
			if string(v.Raw) == "null" {
				return nil
			}
			return v.Raw[:len(v.Raw):len(v.Raw)]
		}
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(metadata, &obj) != nil {
		return nil
	}
	if l := obj["label"]; len(l) > 0 && string(l) != "null" {
		return l
	}
	return nil
}

// addOrMerge stores rec, keeping what an earlier stub (iopub that arrived before the request)
// already holds.
func (h *hub) addOrMerge(rec *Record) {
	err := h.c.db.update(rec.MsgID, func(old *Record) {
		rec.Stdout.Prepend(old.Stdout)
		rec.Stderr.Prepend(old.Stderr)
		if rec.ExecuteInput == nil {
			rec.ExecuteInput = old.ExecuteInput
		}
		for _, f := range []struct{ dst, src *json.RawMessage }{
			{&rec.ExecuteResult, &old.ExecuteResult}, {&rec.DisplayData, &old.DisplayData}, {&rec.Error, &old.Error},
		} {
			if *f.dst == nil {
				*f.dst = *f.src
			}
		}
		if old.Resubmitted != "" {
			rec.Resubmitted = old.Resubmitted
		}
		seq := old.seq
		*old = *rec
		old.seq = seq
	})
	if err != nil {
		h.c.db.add(rec)
	}
}

// saveQueueRequest records a direct request on its way to engine.
func (h *hub) saveQueueRequest(engine string, r *wire.Raw) {
	e := h.byUUID[engine]
	hdr, err := wire.ParseHeader(r.Header)
	if e == nil || err != nil {
		return
	}
	if h.c.db.keeps() {
		rec := newRecord(r, hdr)
		rec.EngineUUID = engine
		rec.Queue = "mux"
		h.addOrMerge(rec)
	}
	h.pending.add(hdr.MsgID)
	e.queue.add(hdr.MsgID)
}

// resultFields fills a record's result from a reply whose metadata is md.
func resultFields(rec *Record, r *wire.Raw, md replyMeta) {
	date := wire.HeaderField(r.Header, "date")
	rec.ResultHeader, rec.ResultMetadata, rec.ResultContent = clone3(r.Header, r.Metadata, r.Content)
	rec.ResultBuffers, rec.resultBufsSet = cloneFrames(r.Buffers), true
	rec.Started = md.Started
	rec.Completed = date
	rec.Received = now()
}

func parentMsgID(r *wire.Raw) string { return wire.MsgID(r.Parent) }

// replyMeta is what the Hub and the task scheduler read from a reply's metadata.
type replyMeta struct {
	Started         string `json:"started"`
	Engine          string `json:"engine"`
	Status          string `json:"status"`
	DependenciesMet *bool  `json:"dependencies_met"`
}

var replyMetaNames = []string{"started", "engine", "status", "dependencies_met"}

// parseReplyMeta decodes reply metadata as json.Unmarshal does, errors ignored (a member
// of the wrong type stays zero), without encoding/json in the common case.
func parseReplyMeta(raw []byte) replyMeta {
	var m [4]wire.Member
	if wire.ScanObject(raw, replyMetaNames, m[:]) {
		if md, ok := fastReplyMeta(&m); ok {
			return md
		}
	}
	var md replyMeta
	json.Unmarshal(raw, &md)
	return md
}

func fastReplyMeta(m *[4]wire.Member) (md replyMeta, ok bool) {
	n := 0
	for _, v := range m[:3] {
		switch v.Kind {
		case wire.KindAbsent:
		case wire.KindString:
			n += len(v.Raw)
		default:
			return md, false
		}
	}
	switch m[3].Kind {
	case wire.KindAbsent:
	case wire.KindTrue:
		md.DependenciesMet = &trueValue
	case wire.KindFalse:
		md.DependenciesMet = &falseValue
	default:
		return md, false
	}
	var b strings.Builder // one allocation for the three strings
	b.Grow(n)
	for _, v := range m[:3] {
		b.Write(v.Raw)
	}
	all := b.String()
	md.Started, all = all[:len(m[0].Raw)], all[len(m[0].Raw):]
	md.Engine, md.Status = all[:len(m[1].Raw)], all[len(m[1].Raw):]
	return md, true
}

// shared targets of replyMeta.DependenciesMet (read only)
var trueValue, falseValue = true, false

// saveQueueResult completes a direct request with the engine's reply.
func (h *hub) saveQueueResult(engine string, r *wire.Raw) {
	msgID := parentMsgID(r)
	if msgID == "" {
		return
	}
	e := h.byUUID[engine]
	switch {
	case h.pending.remove(msgID):
		h.allCompleted.add(msgID)
		if e != nil {
			e.queue.remove(msgID)
			e.completed = append(e.completed, msgID)
		}
	case !h.allCompleted.has(msgID):
		h.c.log.Debug("result for an unknown request", "msg_id", msgID)
		return
	}
	h.c.db.update(msgID, func(rec *Record) { resultFields(rec, r, parseReplyMeta(r.Metadata)) })
}

// saveTaskRequest records a load-balanced task as submitted and not yet placed.
func (h *hub) saveTaskRequest(r *wire.Raw, hdr wire.Header) {
	if h.c.db.keeps() {
		rec := newRecord(r, hdr)
		rec.Queue = "task"
		if old := h.c.db.lookup(hdr.MsgID); old != nil && old.Resubmitted != "" {
			rec.Submitted, rec.ClientUUID, rec.Buffers = old.Submitted, old.ClientUUID, old.Buffers
		}
		h.addOrMerge(rec)
	}
	h.pending.add(hdr.MsgID)
	h.unassigned.add(hdr.MsgID)
}

// saveTaskDestination notes which engine a task was placed on.
func (h *hub) saveTaskDestination(msgID, engine string) {
	h.unassigned.remove(msgID)
	if e := h.byUUID[engine]; e != nil {
		e.tasks.add(msgID)
	}
	h.c.db.update(msgID, func(rec *Record) { rec.EngineUUID = engine })
}

// saveTaskResult completes task msgID with its final reply r, whose metadata is md (an
// engine's reply, or one the scheduler made up for a task that could not run).
func (h *hub) saveTaskResult(r *wire.Raw, msgID string, md replyMeta) {
	h.unassigned.remove(msgID)
	if !h.pending.remove(msgID) {
		return
	}
	h.allCompleted.add(msgID)
	if e := h.byUUID[md.Engine]; e != nil {
		if md.Status != "aborted" {
			e.completed = append(e.completed, msgID)
		}
		e.tasks.remove(msgID)
	} else {
		for _, e := range h.engines { // a dead engine's task, or a scheduler-made failure
			e.tasks.remove(msgID)
		}
	}
	h.c.db.update(msgID, func(rec *Record) {
		resultFields(rec, r, md)
		rec.EngineUUID = md.Engine
	})
}

// saveIOPub files engine output under its request, and unregisters an engine that announces
// its shutdown.
func (h *hub) saveIOPub(r *wire.Raw) {
	if wire.HeaderField(r.Header, "msg_type") == "status" { // most of them: dropped below too, valid header or not
		return
	}
	hdr, err := wire.ParseHeader(r.Header)
	if err != nil {
		return
	}
	switch hdr.MsgType {
	case "status", "iopub_welcome":
		return
	case "shutdown_reply":
		if e := h.byUUID[hdr.Session]; e != nil {
			h.unregisterEngine(e.id, "engine shut down")
		}
		return
	}
	if !h.c.db.keeps() {
		return
	}
	msgID := parentMsgID(r)
	if msgID == "" {
		return
	}
	name, text, code, ok := iopubContent(r.Content)
	if !ok {
		return
	}
	apply := func(rec *Record) {
		switch hdr.MsgType {
		case "stream":
			switch name {
			case "stdout":
				rec.Stdout.Append(text)
			case "stderr":
				rec.Stderr.Append(text)
			}
		case "error":
			rec.Error = clone(r.Content)
		case "execute_input":
			rec.ExecuteInput = &code
		case "execute_result":
			rec.ExecuteResult = clone(r.Content)
		case "display_data":
			rec.DisplayData = clone(r.Content)
		}
	}
	if err := h.c.db.update(msgID, apply); err != nil && !errors.Is(err, errCulled) {
		// output arriving before its request; output of a record culled for size is dropped
		rec := &Record{MsgID: msgID}
		apply(rec)
		h.c.db.add(rec)
	}
}

// decodeString is json.Unmarshal into a string, errors ignored.
func decodeString(raw []byte) string {
	var v string
	json.Unmarshal(raw, &v)
	return v
}

var iopubNames = []string{"name", "text", "code"}

// iopubContent reads the members of iopub content that records keep (a stream's name and
// text, execute_input's code), as decoding the content into map[string]json.RawMessage and
// each member into a string does; ok=false when the content is not a JSON object.
func iopubContent(content []byte) (name, text, code string, ok bool) {
	var m [3]wire.Member
	if wire.ScanObject(content, iopubNames, m[:]) {
		var out [3]string
		for i, v := range m {
			switch v.Kind {
			case wire.KindAbsent:
			case wire.KindString:
				out[i] = string(v.Raw)
			default:
				out[i] = decodeString(v.Raw)
			}
		}
		return out[0], out[1], out[2], true
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(content, &obj) != nil {
		return "", "", "", false
	}
	json.Unmarshal(obj["name"], &name)
	json.Unmarshal(obj["text"], &text)
	json.Unmarshal(obj["code"], &code)
	return name, text, code, true
}

func clone(b []byte) json.RawMessage {
	if b == nil {
		return nil
	}
	return append(json.RawMessage(nil), b...)
}

// clone3 is clone of three parts, in one allocation.
func clone3(a, b, c []byte) (x, y, z json.RawMessage) {
	buf := make([]byte, 0, len(a)+len(b)+len(c))
	part := func(p []byte) json.RawMessage {
		if len(p) == 0 {
			return nil // as clone: append to a nil slice
		}
		start := len(buf)
		buf = append(buf, p...)
		return buf[start:len(buf):len(buf)]
	}
	return part(a), part(b), part(c)
}

func cloneFrames(frames [][]byte) [][]byte {
	out := make([][]byte, len(frames))
	for i, f := range frames {
		out[i] = append([]byte(nil), f...)
	}
	return out
}
