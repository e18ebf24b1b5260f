package controller

import (
	"encoding/json"

	"ipcluster/runtime/wire"
)

// The Hub learns about requests from the relays (ipyparallel sends it copies over a monitor
// socket; here the relays call it directly) and keeps the task records behind the queries.

// newRecord starts a record from a request.
func newRecord(r *wire.Raw, h wire.Header) *Record {
	return &Record{
		MsgID:      h.MsgID,
		Header:     clone(r.Header),
		Content:    clone(r.Content),
		Metadata:   clone(r.Metadata),
		Buffers:    cloneFrames(r.Buffers),
		Submitted:  h.Date,
		ClientUUID: h.Session,
	}
}

// addOrMerge stores rec, keeping what an earlier stub (iopub that arrived before the request)
// already holds.
func (h *hub) addOrMerge(rec *Record) {
	err := h.c.db.update(rec.MsgID, func(old *Record) {
		rec.Stdout, rec.Stderr = old.Stdout+rec.Stdout, old.Stderr+rec.Stderr
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
	rec := newRecord(r, hdr)
	rec.EngineUUID = engine
	rec.Queue = "mux"
	h.addOrMerge(rec)
	h.pending.add(hdr.MsgID)
	e.queue.add(hdr.MsgID)
}

// resultFields fills a record's result from a reply.
func resultFields(rec *Record, r *wire.Raw) {
	var md struct {
		Started string `json:"started"`
	}
	json.Unmarshal(r.Metadata, &md)
	hdr, _ := wire.ParseHeader(r.Header)
	rec.ResultHeader = clone(r.Header)
	rec.ResultMetadata = clone(r.Metadata)
	rec.ResultContent = clone(r.Content)
	rec.ResultBuffers, rec.resultBufsSet = cloneFrames(r.Buffers), true
	rec.Started = md.Started
	rec.Completed = hdr.Date
	rec.Received = now()
}

func parentMsgID(r *wire.Raw) string { return wire.MsgID(r.Parent) }

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
	h.c.db.update(msgID, func(rec *Record) { resultFields(rec, r) })
}

// saveTaskRequest records a load-balanced task as submitted and not yet placed.
func (h *hub) saveTaskRequest(r *wire.Raw, hdr wire.Header) {
	rec := newRecord(r, hdr)
	rec.Queue = "task"
	if old, err := h.c.db.get(hdr.MsgID); err == nil && old.Resubmitted != "" {
		rec.Submitted, rec.ClientUUID, rec.Buffers = old.Submitted, old.ClientUUID, old.Buffers
	}
	h.addOrMerge(rec)
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

// saveTaskResult completes a task with its final reply (an engine's, or one the scheduler
// made up for a task that could not run).
func (h *hub) saveTaskResult(r *wire.Raw) {
	msgID := parentMsgID(r)
	h.unassigned.remove(msgID)
	var md struct {
		Engine string `json:"engine"`
		Status string `json:"status"`
	}
	json.Unmarshal(r.Metadata, &md)
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
		resultFields(rec, r)
		rec.EngineUUID = md.Engine
	})
}

// saveIOPub files engine output under its request, and unregisters an engine that announces
// its shutdown.
func (h *hub) saveIOPub(r *wire.Raw) {
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
	msgID := parentMsgID(r)
	if msgID == "" {
		return
	}
	var content map[string]json.RawMessage
	if json.Unmarshal(r.Content, &content) != nil {
		return
	}
	apply := func(rec *Record) {
		switch hdr.MsgType {
		case "stream":
			var name, text string
			json.Unmarshal(content["name"], &name)
			json.Unmarshal(content["text"], &text)
			switch name {
			case "stdout":
				rec.Stdout += text
			case "stderr":
				rec.Stderr += text
			}
		case "error":
			rec.Error = clone(r.Content)
		case "execute_input":
			var code string
			json.Unmarshal(content["code"], &code)
			rec.ExecuteInput = &code
		case "execute_result":
			rec.ExecuteResult = clone(r.Content)
		case "display_data":
			rec.DisplayData = clone(r.Content)
		}
	}
	if err := h.c.db.update(msgID, apply); err != nil {
		rec := &Record{MsgID: msgID}
		apply(rec)
		h.c.db.add(rec)
	}
}

func clone(b []byte) json.RawMessage {
	if b == nil {
		return nil
	}
	return append(json.RawMessage(nil), b...)
}

func cloneFrames(frames [][]byte) [][]byte {
	out := make([][]byte, len(frames))
	for i, f := range frames {
		out[i] = append([]byte(nil), f...)
	}
	return out
}
