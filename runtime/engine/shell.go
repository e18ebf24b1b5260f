package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"

	"ipcluster/runtime/wire"
)

// CommandErrorName is the ename of an execute_reply for a command that failed.
const CommandErrorName = "CommandError"

// pythonEngineHint tells users of apply/map how to get engines that run Python functions.
const pythonEngineHint = "this engine (ipengine-go) runs shell commands with view.execute('command'), not Python functions; " +
	"to run functions, start Python engines instead: c.EngineLauncher.engine_cmd = ['/usr/bin/python3', '-m', 'ipyparallel.engine'] " +
	"in ipcluster_config.py, or `python3 -m ipyparallel.engine`"

// request is a shell request waiting or being handled.
type request struct {
	idents  [][]byte // exactly as received: the reply retraces the path
	raw     *wire.Raw
	header  wire.Header
	meta    map[string]any // request metadata (broadcast fields are echoed)
	started string
}

// onShell queues requests from mux, task and broadcast; they run one at a time in arrival
// order, as in ipykernel.
func (e *Engine) onShell(frames [][]byte) {
	req, ok := e.decodeRequest("shell", frames)
	if !ok {
		return
	}
	if e.stopping {
		e.replyAborted(req)
		return
	}
	if e.aborted[req.header.MsgID] {
		delete(e.aborted, req.header.MsgID)
		e.replyAborted(req)
		return
	}
	e.queue = append(e.queue, req)
	e.next()
}

func (e *Engine) decodeRequest(where string, frames [][]byte) (*request, bool) {
	r, err := e.session.Decode(frames)
	if err != nil {
		e.log.Warn("dropped bad message", "socket", where, "err", err)
		return nil, false
	}
	h, err := wire.ParseHeader(r.Header)
	if err != nil {
		e.log.Warn("dropped message with a bad header", "socket", where, "err", err)
		return nil, false
	}
	req := &request{idents: r.Idents, raw: r, header: h, started: wire.Now()}
	if err := json.Unmarshal(r.Metadata, &req.meta); err != nil || req.meta == nil {
		req.meta = map[string]any{}
	}
	return req, true
}

// next handles queued requests until one starts a command.
func (e *Engine) next() {
	for e.current == nil && len(e.queue) > 0 && !e.stopping {
		req := e.queue[0]
		e.queue = e.queue[1:]
		e.handleShell(req)
	}
}

func (e *Engine) handleShell(req *request) {
	req.started = wire.Now()
	e.publish("status", req.raw.Header, map[string]any{"execution_state": "busy"})
	e.log.Debug("handling", "type", req.header.MsgType, "msg_id", req.header.MsgID)
	switch req.header.MsgType {
	case "execute_request":
		if e.execute(req) {
			return // the command's exit sends the reply and the idle status
		}
	case "apply_request":
		content := errorContent("NotImplementedError", pythonEngineHint, nil, e.engineInfo("apply"))
		e.publish("error", req.raw.Header, content)
		e.reply(e.shell, req, "apply_reply", withStatus(content, "error"))
	case "kernel_info_request":
		e.reply(e.shell, req, "kernel_info_reply", kernelInfo())
	default:
		e.replyUnsupported(e.shell, req)
	}
	e.publish("status", req.raw.Header, map[string]any{"execution_state": "idle"})
}

// execute starts the request's command; it reports false when the reply was sent at once
// (empty code, or the command could not start).
func (e *Engine) execute(req *request) bool {
	var content struct {
		Code   string `json:"code"`
		Silent bool   `json:"silent"`
	}
	json.Unmarshal(req.raw.Content, &content)
	if !content.Silent {
		e.execCount++
		e.publish("execute_input", req.raw.Header, map[string]any{"code": content.Code, "execution_count": e.execCount})
	}
	if strings.TrimSpace(content.Code) == "" {
		e.replyExecute(req, nil)
		return false
	}
	j, err := e.startJob(req, content.Code)
	if err != nil {
		e.log.Error("cannot start command", "err", err)
		e.replyExecute(req, errorContent(CommandErrorName, fmt.Sprintf("cannot run %s: %v", quoteCommand(content.Code), err),
			nil, e.engineInfo("execute")))
		return false
	}
	e.current = j
	return true
}

// onJobDone answers the request of a finished command and moves on.
func (e *Engine) onJobDone(j *job, x exit) {
	j.finished = true
	if j.killTimer != nil {
		j.killTimer.Stop()
	}
	e.current = nil
	failure := e.describeExit(j, x)
	e.replyExecute(j.req, failure)
	e.publish("status", j.req.raw.Header, map[string]any{"execution_state": "idle"})
	if e.stopping {
		e.leave()
		return
	}
	e.next()
}

// describeExit returns nil for a zero exit, else the error content naming the command and
// how it ended, with the exit code as a number and the end of its stderr as traceback.
func (e *Engine) describeExit(j *job, x exit) map[string]any {
	cmd := quoteCommand(j.code)
	var evalue string
	code := -1
	switch {
	case x.state == nil:
		evalue = fmt.Sprintf("command %s could not be waited for: %v", cmd, x.err)
	case x.state.Sys().(syscall.WaitStatus).Signaled():
		sig := x.state.Sys().(syscall.WaitStatus).Signal()
		code = -int(sig) // as Python's subprocess reports it
		evalue = fmt.Sprintf("command %s was killed by signal %s", cmd, signalName(sig))
	case x.state.ExitCode() == 0:
		return nil
	default:
		code = x.state.ExitCode()
		evalue = fmt.Sprintf("command %s exited with status %d", cmd, code)
	}
	if j.stoppedBy != "" {
		evalue += " because " + j.stoppedBy
	}
	tb := []string{evalue}
	if lines := j.tail.Lines(10); len(lines) > 0 {
		tb = append(tb, "last lines of stderr:")
		tb = append(tb, lines...)
	}
	content := errorContent(CommandErrorName, evalue, tb, e.engineInfo("execute"))
	content["exit_code"] = code
	return content
}

// replyExecute sends the execute_reply: ok when failure is nil, else the error (also
// published on iopub as an error message, as ipykernel does).
func (e *Engine) replyExecute(req *request, failure map[string]any) {
	if failure == nil {
		e.reply(e.shell, req, "execute_reply", map[string]any{
			"status": "ok", "execution_count": e.execCount, "user_expressions": map[string]any{}, "payload": []any{},
		})
		return
	}
	e.publish("error", req.raw.Header, failure)
	content := withStatus(failure, "error")
	content["execution_count"] = e.execCount
	e.reply(e.shell, req, "execute_reply", content)
}

// replyAborted answers a request that will not run (abort_request, or the engine is
// leaving), with busy/idle around it so that output waits in the client end too.
func (e *Engine) replyAborted(req *request) {
	e.log.Info("aborting", "type", req.header.MsgType, "msg_id", req.header.MsgID)
	e.publish("status", req.raw.Header, map[string]any{"execution_state": "busy"})
	e.reply(e.shell, req, replyType(req.header.MsgType), map[string]any{"status": "aborted"})
	e.publish("status", req.raw.Header, map[string]any{"execution_state": "idle"})
}

// replyUnsupported answers request types a shell engine does not have, so that no client
// waits forever.
func (e *Engine) replyUnsupported(s sender, req *request) {
	e.log.Warn("unsupported request", "type", req.header.MsgType)
	if !strings.HasSuffix(req.header.MsgType, "_request") {
		return // comm messages and the like expect no reply
	}
	content := errorContent("NotImplementedError",
		fmt.Sprintf("%s is not supported by this engine (ipengine-go runs shell commands)", req.header.MsgType), nil, e.engineInfo(""))
	e.reply(s, req, replyType(req.header.MsgType), withStatus(content, "error"))
}

// sender is a socket replies go out on (shell or control).
type sender interface{ Send([][]byte) error }

// reply answers req on the socket it came from, with ipyparallel's reply metadata.
func (e *Engine) reply(s sender, req *request, msgType string, content map[string]any) {
	status, _ := content["status"].(string)
	md := map[string]any{
		"started":          req.started,
		"dependencies_met": true,
		"engine":           e.cfg.UUID,
		"is_broadcast":     metaOr(req.meta, "is_broadcast", false),
		"is_coalescing":    metaOr(req.meta, "is_coalescing", false),
		"original_msg_id":  metaOr(req.meta, "original_msg_id", ""),
		"status":           status,
	}
	if label, ok := req.meta["label"]; ok {
		md["label"] = label // ipyparallel 9 echoes it
	}
	if status == "error" {
		md["engine_info"] = map[string]any{"engine_uuid": e.cfg.UUID, "engine_id": e.ID()}
	}
	frames, err := e.session.Reply(req.idents, msgType, req.raw.Header, md, content, nil)
	if err != nil {
		e.log.Error("encode reply", "type", msgType, "err", err)
		return
	}
	if err := e.transmit(s, frames); err != nil {
		e.log.Warn("send reply failed", "type", msgType, "err", err)
	}
}

func (e *Engine) engineInfo(method string) map[string]any {
	info := map[string]any{"engine_uuid": e.cfg.UUID, "engine_id": e.ID()}
	if method != "" {
		info["method"] = method
	}
	return info
}

func errorContent(ename, evalue string, traceback []string, engineInfo map[string]any) map[string]any {
	if traceback == nil {
		traceback = []string{ename + ": " + evalue}
	}
	return map[string]any{"ename": ename, "evalue": evalue, "traceback": traceback, "engine_info": engineInfo}
}

func withStatus(content map[string]any, status string) map[string]any {
	out := make(map[string]any, len(content)+1)
	for k, v := range content {
		out[k] = v
	}
	out["status"] = status
	return out
}

func metaOr(meta map[string]any, key string, def any) any {
	if v, ok := meta[key]; ok && v != nil {
		return v
	}
	return def
}

// replyType is ipykernel's reply name for a request: the part before the last "_" + "_reply".
func replyType(msgType string) string {
	if i := strings.LastIndexByte(msgType, '_'); i > 0 {
		return msgType[:i] + "_reply"
	}
	return msgType + "_reply"
}

// quoteCommand renders code for messages: its first line, shortened, in quotes.
func quoteCommand(code string) string {
	s := strings.TrimSpace(code)
	more := false
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s, more = strings.TrimSpace(s[:i]), true
	}
	if r := []rune(s); len(r) > 60 {
		s, more = string(r[:60]), true
	}
	if more {
		s += " …"
	}
	return "'" + s + "'"
}

func kernelInfo() map[string]any {
	return map[string]any{
		"status":                 "ok",
		"protocol_version":       wire.ProtocolVersion,
		"implementation":         "ipengine-go",
		"implementation_version": Version,
		"language_info":          map[string]any{"name": "shell", "mimetype": "text/x-sh", "file_extension": ".sh"},
		"banner":                 "ipengine-go: runs each execute_request as a shell command",
		"help_links":             []any{},
	}
}

// Version of the engine, reported in kernel_info_reply.
const Version = "0.1.0"
