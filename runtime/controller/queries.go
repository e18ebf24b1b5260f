package controller

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"ipcluster/runtime/wire"
)

// onQuery serves the registration socket: engine (un)registration and every client query.
func (h *hub) onQuery(frames [][]byte) {
	r, ok := h.c.decode("registration", frames)
	if !ok {
		return
	}
	hdr, err := wire.ParseHeader(r.Header)
	if err != nil {
		h.c.log.Warn("dropped query with a malformed header", "peer", peerName(frames), "err", err)
		return
	}
	idents := r.Idents
	var content map[string]json.RawMessage
	if err := json.Unmarshal(r.Content, &content); err != nil {
		h.c.log.Warn("dropped query with malformed content", "type", hdr.MsgType, "peer", peerName(frames), "err", err)
		return
	}
	reply := func(msgType string, content any, buffers [][]byte) {
		h.c.reply(h.c.query, idents, msgType, r.Header, nil, content, buffers)
	}
	switch hdr.MsgType {
	case "registration_request":
		h.registerEngine(idents, r)
	case "unregistration_request":
		var id *int
		json.Unmarshal(content["id"], &id)
		if id != nil {
			h.unregisterEngine(*id, "unregistration request")
		}
	case "connection_request":
		engines := map[string]string{}
		for id, e := range h.engines {
			engines[strconv.Itoa(id)] = e.uuid
		}
		reply("connection_reply", map[string]any{"status": "ok", "engines": engines}, nil)
		h.clientJoining()
	case "queue_request":
		if _, given := content["targets"]; !given {
			reply("hub_error", keyError("targets", "queue_status"), nil)
			return
		}
		if c, ok := h.queueStatus(content); ok {
			reply("queue_reply", c, nil)
		} else {
			reply("hub_error", c, nil)
		}
	case "result_request":
		if bad := requiredList(content, "msg_ids", "get_results"); bad != nil {
			reply("hub_error", bad, nil)
			return
		}
		c, bufs := h.results(content)
		reply("result_reply", c, bufs)
	case "history_request":
		ids, err := h.c.db.history()
		if err != nil {
			reply("history_reply", keyError(err.Error(), "get_history"), nil)
			return
		}
		reply("history_reply", map[string]any{"status": "ok", "history": nonNil(ids)}, nil)
	case "db_request":
		c, bufs := h.dbQuery(content)
		reply("db_reply", c, bufs)
	case "purge_request":
		if bad := nullList(content, "msg_ids", "purge_results"); bad != nil {
			reply("hub_error", bad, nil)
			return
		}
		if bad := nullList(content, "engine_ids", "purge_results"); bad != nil {
			reply("hub_error", bad, nil)
			return
		}
		reply("purge_reply", h.purge(content), nil)
	case "resubmit_request":
		if bad := requiredList(content, "msg_ids", "resubmit_task"); bad != nil {
			if string(content["msg_ids"]) == "null" { // len(None) in ipyparallel
				bad = errorContent("TypeError", "object of type 'NoneType' has no len()", "resubmit_task")
			}
			reply("hub_error", bad, nil)
			return
		}
		reply("resubmit_reply", h.resubmit(content), nil)
	case "load_request":
		if _, given := content["targets"]; !given {
			reply("hub_error", keyError("targets", "check_load"), nil)
			return
		}
		if c, ok := h.load(content["targets"]); ok {
			reply("load_reply", c, nil)
		} else {
			reply("hub_error", c, nil)
		}
	case "shutdown_request":
		reply("shutdown_reply", map[string]any{"status": "ok"}, nil)
		h.notifyShutdown(r.Header)
		h.c.log.Info("shutdown requested by a client")
		h.c.loop.After(h.c.cfg.ShutdownLinger, h.c.loop.Stop)
	case "become_dask_request":
		h.c.dask.become(content["scheduler_args"], func(c map[string]any) { reply("become_dask_reply", c, nil) })
	case "stop_distributed_request":
		h.c.dask.stop(func(c map[string]any) { reply("stop_distributed_reply", c, nil) })
	default:
		reply("hub_error", keyError("Bad Message Type: "+pyRepr(hdr.MsgType), "dispatch_query"), nil)
	}
}

func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// validateTargets turns a queue_request's targets (null = all, an int, an engine uuid, or a
// list of those) into engine ids, with the IndexErrors of ipyparallel: null is every
// registered engine, possibly none (not an error: a client asks before engines come); an
// explicit empty list is "No Engines Registered".
func (h *hub) validateTargets(raw json.RawMessage) ([]int, map[string]any) {
	var v any
	if len(raw) > 0 {
		json.Unmarshal(raw, &v)
	}
	if v == nil {
		return h.ids(), nil
	}
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	var ids []int
	var bad []string
	for _, t := range list {
		switch t := t.(type) {
		case float64:
			if _, ok := h.engines[int(t)]; ok {
				ids = append(ids, int(t))
				continue
			}
			bad = append(bad, strconv.Itoa(int(t)))
		case string:
			if e := h.byUUID[t]; e != nil {
				ids = append(ids, e.id)
				continue
			}
			bad = append(bad, pyRepr(t))
		default:
			bad = append(bad, fmt.Sprint(t))
		}
	}
	if len(bad) > 0 {
		return nil, errorContent("IndexError", "No Such Engine: ["+join(bad)+"]", "_validate_targets")
	}
	if len(ids) == 0 {
		return nil, errorContent("IndexError", "No Engines Registered", "_validate_targets")
	}
	return ids, nil
}

// queueStatus answers queue_request; ok=false means the content is an error.
func (h *hub) queueStatus(content map[string]json.RawMessage) (out map[string]any, ok bool) {
	ids, errContent := h.validateTargets(content["targets"])
	if errContent != nil {
		return errContent, false
	}
	var verbose bool
	json.Unmarshal(content["verbose"], &verbose)
	out = map[string]any{"status": "ok"}
	for _, id := range ids {
		e := h.engines[id]
		if verbose {
			out[strconv.Itoa(id)] = map[string]any{"queue": e.queue.list(), "completed": nonNil(e.completed), "tasks": e.tasks.list()}
		} else {
			out[strconv.Itoa(id)] = map[string]any{"queue": e.queue.len(), "completed": len(e.completed), "tasks": e.tasks.len()}
		}
	}
	if verbose {
		out["unassigned"] = h.unassigned.list()
	} else {
		out["unassigned"] = h.unassigned.len()
	}
	return out, true
}

// requiredList is the error ipyparallel's hub answers for a missing (KeyError) or null
// (TypeError) list argument, or nil when the argument is there.
func requiredList(content map[string]json.RawMessage, key, where string) map[string]any {
	if _, given := content[key]; !given {
		return keyError(key, where)
	}
	return nullList(content, key, where)
}

// nullList is the TypeError of iterating over None, for a list argument sent as null (an
// absent one takes its default).
func nullList(content map[string]json.RawMessage, key, where string) map[string]any {
	if raw, given := content[key]; given && string(raw) == "null" {
		return errorContent("TypeError", "'NoneType' object is not iterable", where)
	}
	return nil
}

// load answers load_request: each target's outstanding requests (direct and load-balanced).
// (ipyparallel's hub keys them by bytes(id), which is a bug; ours by the id as queue_status.)
func (h *hub) load(targets json.RawMessage) (map[string]any, bool) {
	ids, errContent := h.validateTargets(targets)
	if errContent != nil {
		return errContent, false
	}
	out := map[string]any{"status": "ok"}
	for _, id := range ids {
		e := h.engines[id]
		out[strconv.Itoa(id)] = e.queue.len() + e.tasks.len()
	}
	return out, true
}

func stringList(raw json.RawMessage) []string {
	var ids []string
	json.Unmarshal(raw, &ids)
	return ids
}

// results answers result_request: which ids are pending or completed and, unless
// status_only, each completed record with its result buffers (in sorted msg_id order).
func (h *hub) results(content map[string]json.RawMessage) (any, [][]byte) {
	ids := stringList(content["msg_ids"])
	sort.Strings(ids)
	ids = dedupe(ids)
	var statusOnly bool
	json.Unmarshal(content["status_only"], &statusOnly)
	out := map[string]any{"status": "ok"}
	pending, completed := []string{}, []string{}
	var buffers [][]byte
	for _, id := range ids {
		if h.pending.has(id) {
			pending = append(pending, id)
			continue
		}
		known := h.allCompleted.has(id)
		if statusOnly {
			if !known {
				return keyError("No such message: "+id, "get_results"), nil
			}
			completed = append(completed, id)
			continue
		}
		rec, err := h.c.db.get(id)
		switch {
		case err != nil && known: // purged, culled, or --nodb
			return keyError(err.Error(), "get_results"), nil
		case err != nil:
			return keyError("No such message: "+id, "get_results"), nil
		case rec.Completed == "" && !known:
			pending = append(pending, id)
			continue
		}
		completed = append(completed, id)
		out[id] = map[string]any{
			"header": rec.field("header"), "metadata": rec.field("metadata"),
			"result_metadata": rec.field("result_metadata"), "result_header": rec.field("result_header"),
			"result_content": rec.field("result_content"), "received": rec.field("received"),
			"io": map[string]any{
				"execute_input": rec.field("execute_input"), "execute_result": rec.field("execute_result"),
				"error": rec.field("error"), "stdout": rec.Stdout.String(), "stderr": rec.Stderr.String(),
			},
		}
		buffers = append(buffers, rec.ResultBuffers...)
	}
	out["pending"], out["completed"] = pending, completed
	return out, buffers
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// dbQuery answers db_request with the matching records (restricted to keys, if given) and,
// when asked for, their buffers.
func (h *hub) dbQuery(content map[string]json.RawMessage) (any, [][]byte) {
	var query map[string]any
	if raw := content["query"]; string(raw) == "null" { // query.items() in ipyparallel's DictDB
		return errorContent("AttributeError", "'NoneType' object has no attribute 'items'", "db_query"), nil
	} else if len(raw) > 0 {
		if err := json.Unmarshal(raw, &query); err != nil {
			return errorContent("TypeError", "query must be a dict", "db_query"), nil
		}
	}
	var keys []string
	keysGiven := len(content["keys"]) > 0 && string(content["keys"]) != "null"
	if keysGiven {
		json.Unmarshal(content["keys"], &keys)
		if !contains(keys, "msg_id") {
			keys = append(keys, "msg_id")
		}
	}
	recs, err := h.c.db.find(query)
	if err != nil {
		if errors.Is(err, errNoDB) {
			return keyError(err.Error(), "db_query"), nil
		}
		return errorContent("ValueError", err.Error(), "db_query"), nil
	}
	var bufferLens, resultBufferLens any // null unless those keys are asked for
	var bl, rbl []int
	wantBufs, wantResultBufs := keysGiven && contains(keys, "buffers"), keysGiven && contains(keys, "result_buffers")
	var buffers [][]byte
	records := make([]map[string]any, 0, len(recs))
	for _, rec := range recs {
		m := map[string]any{}
		for _, k := range recordKeys {
			if k == "buffers" || k == "result_buffers" || keysGiven && !contains(keys, k) {
				continue
			}
			m[k] = rec.field(k)
		}
		if wantBufs {
			bl = append(bl, len(rec.Buffers))
			buffers = append(buffers, rec.Buffers...)
		}
		if wantResultBufs {
			rbl = append(rbl, len(rec.ResultBuffers))
			buffers = append(buffers, rec.ResultBuffers...)
		}
		records = append(records, m)
	}
	if wantBufs {
		bufferLens = nonNilInts(bl)
	}
	if wantResultBufs {
		resultBufferLens = nonNilInts(rbl)
	}
	return map[string]any{"status": "ok", "records": records, "buffer_lens": bufferLens, "result_buffer_lens": resultBufferLens}, buffers
}

func nonNilInts(v []int) []int {
	if v == nil {
		return []int{}
	}
	return v
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// purge drops records: "all" completed ones, given msg_ids (not pending ones), and the
// completed records of given engines.
func (h *hub) purge(content map[string]json.RawMessage) any {
	var all string
	if json.Unmarshal(content["msg_ids"], &all) == nil && all == "all" {
		h.c.db.dropWhere(func(r *Record) bool { return r.Completed != "" })
	} else {
		ids := stringList(content["msg_ids"])
		for _, id := range ids {
			if h.pending.has(id) {
				return errorContent("IndexError", "msg pending: "+pyRepr(id), "purge_results")
			}
		}
		h.c.db.drop(ids)
	}
	var eids []int
	json.Unmarshal(content["engine_ids"], &eids)
	for _, eid := range eids {
		e := h.engines[eid]
		if e == nil {
			return errorContent("IndexError", "No such engine: "+strconv.Itoa(eid), "purge_results")
		}
		h.c.db.dropWhere(func(r *Record) bool { return r.EngineUUID == e.uuid && r.Completed != "" })
	}
	return map[string]any{"status": "ok"}
}

// resubmit sends finished tasks again as new load-balanced tasks (under new msg_ids from the
// Hub's session, with the original headers otherwise), as ipyparallel does.
func (h *hub) resubmit(content map[string]json.RawMessage) any {
	ids := stringList(content["msg_ids"])
	var recs []*Record
	var missing []string
	for _, id := range ids {
		rec, err := h.c.db.get(id)
		if err != nil {
			missing = append(missing, id)
			continue
		}
		recs = append(recs, rec)
	}
	if len(missing) > 0 {
		return keyError("No such msg(s): "+pyList(missing), "resubmit_task")
	}
	resubmitted := map[string]string{}
	for _, rec := range recs {
		var header map[string]any
		if err := json.Unmarshal(rec.Header, &header); err != nil {
			return errorContent("ValueError", "record "+rec.MsgID+" has no valid header", "resubmit_task")
		}
		newID := h.c.session.NewMsgID()
		header["msg_id"], header["date"] = newID, wire.Now()
		hdrBytes, _ := wire.Marshal(header)
		m := &wire.Raw{Header: hdrBytes, Parent: rec.Header, Metadata: []byte("{}"), Content: rec.Content, Buffers: rec.Buffers}
		if len(m.Content) == 0 {
			m.Content = []byte("{}")
		}
		h.c.session.Resign(m)
		h.c.tasks.submitInternal(m)
		resubmitted[rec.MsgID] = newID
	}
	for old, fresh := range resubmitted {
		h.c.db.update(old, func(r *Record) { r.Resubmitted = fresh })
	}
	return map[string]any{"status": "ok", "resubmitted": resubmitted}
}

func join(items []string) string {
	out := ""
	for i, s := range items {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}
