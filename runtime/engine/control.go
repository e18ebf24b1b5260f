package engine

import (
	"encoding/json"
	"syscall"
)

// onControl handles control requests. They are served at once, also while a command runs
// (the command runs in another process; the loop stays free).
func (e *Engine) onControl(frames [][]byte) {
	req, ok := e.decodeRequest("control", frames)
	if !ok {
		return
	}
	parent := req.raw.Header
	e.publish("status", parent, statusBusy)
	idle := func() { e.publish("status", parent, statusIdle) }
	switch req.msgType {
	case "shutdown_request":
		e.shutdown(req, idle)
		return // idle goes out with the shutdown_reply, once the command is gone
	case "abort_request":
		e.abort(req)
	case "clear_request":
		// Nothing to clear: a shell engine keeps no namespace between commands.
		e.reply(e.control, req, "clear_reply", map[string]any{"status": "ok"})
	case "signal_request":
		e.signalRequest(req, "signal_reply")
	case "interrupt_request":
		e.interrupt(req)
	case "kernel_info_request":
		e.reply(e.control, req, "kernel_info_reply", kernelInfo())
	default:
		e.replyUnsupported(e.control, req)
	}
	idle()
}

// shutdown stops the running command, then answers on control and on iopub (the
// controller unregisters the engine when it sees the iopub copy), unregisters and exits.
func (e *Engine) shutdown(req *request, idle func()) {
	var c struct {
		Restart bool `json:"restart"`
	}
	json.Unmarshal(req.raw.Content, &c)
	content := map[string]any{"status": "ok", "restart": c.Restart}
	answer := func() {
		e.reply(e.control, req, "shutdown_reply", content)
		e.publishValue("shutdown_reply", req.raw.Header, content)
		idle()
	}
	if e.stopping { // already leaving: answer now, the engine exits anyway
		answer()
		return
	}
	e.stop(nil, answer, "shutdown requested by a client")
}

// abort marks requests to be answered "aborted" instead of run. Queued ones are answered
// at once; an empty list aborts the whole queue. The running command is not touched (use
// a signal_request for that), as in ipykernel.
func (e *Engine) abort(req *request) {
	var c struct {
		MsgIDs any `json:"msg_ids"`
	}
	json.Unmarshal(req.raw.Content, &c)
	var ids []string
	switch v := c.MsgIDs.(type) {
	case string:
		ids = []string{v}
	case []any:
		for _, id := range v {
			if s, ok := id.(string); ok {
				ids = append(ids, s)
			}
		}
	}
	if len(ids) == 0 {
		for _, r := range e.queue {
			e.replyAborted(r)
		}
		e.queue = nil
	}
	for _, id := range ids {
		if !e.abortQueued(id) {
			e.aborted[id] = true // answered when it arrives
		}
	}
	e.reply(e.control, req, "abort_reply", map[string]any{"status": "ok"})
}

// abortQueued answers the queued request msgID as aborted, if it is queued.
func (e *Engine) abortQueued(msgID string) bool {
	for i, r := range e.queue {
		if r.msgID == msgID {
			e.queue = append(e.queue[:i], e.queue[i+1:]...)
			e.replyAborted(r)
			return true
		}
	}
	return false
}

// signalRequest sends {"sig": int or name} to the running command's process group (the
// Python engine's nanny signals the kernel process instead; for a shell engine the command
// is what a user means to interrupt).
func (e *Engine) signalRequest(req *request, replyType string) {
	var c struct {
		Sig any `json:"sig"`
	}
	json.Unmarshal(req.raw.Content, &c)
	sig, err := parseSignal(c.Sig)
	if err != nil {
		e.reply(e.control, req, replyType, withStatus(errorContent("ValueError", err.Error(), nil, e.engineInfo("")), "error"))
		return
	}
	e.sendSignal(req, replyType, sig)
}

func (e *Engine) interrupt(req *request) {
	e.sendSignal(req, "interrupt_reply", syscall.SIGINT)
}

func (e *Engine) sendSignal(req *request, replyType string, sig syscall.Signal) {
	if e.current == nil {
		e.log.Info("signal requested but no command is running", "signal", signalName(sig))
	} else {
		e.log.Info("signalling the running command", "signal", signalName(sig), "pid", e.current.pgid)
		if err := e.current.signal(sig); err != nil {
			e.reply(e.control, req, replyType, withStatus(errorContent("OSError", err.Error(), nil, e.engineInfo("")), "error"))
			return
		}
	}
	e.reply(e.control, req, replyType, map[string]any{"status": "ok"})
}
