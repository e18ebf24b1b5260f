package engine

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"syscall"
	"time"

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
	msgID   string
	msgType string
	echo    echo      // request metadata that the reply metadata repeats
	started time.Time // when handling started (or the request arrived, if never handled)
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
	if e.aborted[req.msgID] {
		delete(e.aborted, req.msgID)
		e.replyAborted(req)
		return
	}
	if e.current == nil && len(e.queue) == 0 {
		e.handleShell(req) // what next would do, without the queue
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
	req := &request{idents: r.Idents, raw: r, started: time.Now()}
	if req.msgID, req.msgType, err = parseHeader(r.Header); err != nil {
		e.log.Warn("dropped message with a bad header", "socket", where, "err", err)
		return nil, false
	}
	req.echo = parseEcho(r.Metadata)
	return req, true
}

// next handles queued requests until one starts a command.
func (e *Engine) next() {
	for e.current == nil && len(e.queue) > 0 && !e.stopping {
		req := e.queue[0]
		e.queue[0] = nil
		e.queue = e.queue[1:]
		e.handleShell(req)
	}
}

func (e *Engine) handleShell(req *request) {
	req.started = time.Now()
	e.publish("status", req.raw.Header, statusBusy)
	if e.log.Enabled(context.Background(), slog.LevelDebug) {
		e.log.Debug("handling", "type", req.msgType, "msg_id", req.msgID)
	}
	switch req.msgType {
	case "execute_request":
		if e.execute(req) {
			return // the command's exit sends the reply and the idle status
		}
	case "apply_request":
		content := errorContent("NotImplementedError", pythonEngineHint, nil, e.engineInfo("apply"))
		e.publishValue("error", req.raw.Header, content)
		e.reply(e.shell, req, "apply_reply", withStatus(content, "error"))
	case "kernel_info_request":
		e.reply(e.shell, req, "kernel_info_reply", kernelInfo())
	default:
		e.replyUnsupported(e.shell, req)
	}
	e.publish("status", req.raw.Header, statusIdle)
}

// execute starts the request's command; it reports false when the reply was sent at once
// (empty code, or the command could not start).
func (e *Engine) execute(req *request) bool {
	code, silent := parseExecute(req.raw.Content)
	if !silent {
		e.execCount++
		e.publish("execute_input", req.raw.Header, e.enc.executeInput(code, e.execCount))
	}
	if strings.TrimSpace(code) == "" {
		e.replyExecute(req, nil)
		return false
	}
	if e.cfg.Executor != nil {
		e.executeInProcess(req, code)
		return false
	}
	j, err := e.startJob(req, code)
	if err != nil {
		e.log.Error("cannot start command", "err", err)
		e.replyExecute(req, errorContent(CommandErrorName, fmt.Sprintf("cannot run %s: %v", quoteCommand(code), err),
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
	e.unguardGroup(j.pgid) // wait has seen the group gone
	failure := e.describeExit(j, x)
	e.replyExecute(j.req, failure)
	e.publish("status", j.req.raw.Header, statusIdle)
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
		e.replyEncoded(e.shell, req, "execute_reply", "ok", e.enc.executeOK(e.execCount))
		return
	}
	e.publishValue("error", req.raw.Header, failure)
	content := withStatus(failure, "error")
	content["execution_count"] = e.execCount
	e.reply(e.shell, req, "execute_reply", content)
}

// replyAborted answers a request that will not run (abort_request, or the engine is
// leaving), with busy/idle around it so that output waits in the client end too.
func (e *Engine) replyAborted(req *request) {
	e.log.Info("aborting", "type", req.msgType, "msg_id", req.msgID)
	e.publish("status", req.raw.Header, statusBusy)
	e.replyEncoded(e.shell, req, replyType(req.msgType), "aborted", contentAborted)
	e.publish("status", req.raw.Header, statusIdle)
}

// replyUnsupported answers request types a shell engine does not have, so that no client
// waits forever.
func (e *Engine) replyUnsupported(s sender, req *request) {
	e.log.Warn("unsupported request", "type", req.msgType)
	if !strings.HasSuffix(req.msgType, "_request") {
		return // comm messages and the like expect no reply
	}
	content := errorContent("NotImplementedError",
		fmt.Sprintf("%s is not supported by this engine (ipengine-go runs shell commands)", req.msgType), nil, e.engineInfo(""))
	e.reply(s, req, replyType(req.msgType), withStatus(content, "error"))
}

// sender is a socket replies go out on (shell or control).
type sender interface{ Send([][]byte) error }

// reply answers req on the socket it came from, with ipyparallel's reply metadata.
func (e *Engine) reply(s sender, req *request, msgType string, content map[string]any) {
	status, _ := content["status"].(string)
	enc, err := wire.Marshal(content)
	if err != nil {
		e.log.Error("encode reply", "type", msgType, "err", err)
		return
	}
	e.replyEncoded(s, req, msgType, status, enc)
}

// replyEncoded is reply with the content already encoded; status is its status field.
func (e *Engine) replyEncoded(s sender, req *request, msgType, status string, content []byte) {
	frames := e.enc.message(req.idents, nil, msgType, req.raw.Header, e.replyMetadata(req, status), content)
	if err := e.transmit(s, frames); err != nil {
		e.log.Warn("send reply failed", "type", msgType, "err", err)
	}
}

// replyMetadata encodes ipyparallel's reply metadata (keys in the sorted order in which
// encoding/json writes a map), in the encoder's scratch space.
func (e *Engine) replyMetadata(req *request, status string) []byte {
	c := e.enc
	b := append(c.metaBuf[:0], `{"dependencies_met":true,"engine":`...)
	b = append(b, c.uuid...)
	if status == "error" {
		b = append(b, `,"engine_info":{"engine_id":`...)
		b = strconv.AppendInt(b, int64(e.ID()), 10)
		b = append(b, `,"engine_uuid":`...)
		b = append(b, c.uuid...)
		b = append(b, '}')
	}
	b = append(b, `,"is_broadcast":`...)
	b = append(b, req.echo.isBroadcast...)
	b = append(b, `,"is_coalescing":`...)
	b = append(b, req.echo.isCoalescing...)
	if req.echo.label != nil {
		b = append(b, `,"label":`...) // ipyparallel 9 echoes it
		b = append(b, req.echo.label...)
	}
	b = append(b, `,"original_msg_id":`...)
	b = append(b, req.echo.originalMsgID...)
	b = append(b, `,"started":"`...)
	b = wire.AppendDate(b, req.started)
	b = append(b, `","status":`...)
	b = wire.AppendJSONString(b, status)
	b = append(b, '}')
	c.metaBuf = b
	return b
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
