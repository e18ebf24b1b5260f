package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"ipcluster/runtime/wire"
)

// Result is the outcome of one execute request on one engine.
type Result struct {
	MsgID    string
	EngineID int    // engine that ran (or was to run) the code; -1 if none did
	Status   string // "ok", "error" or "aborted"; "" when no reply came (see Err)

	// Output of the run that produced the result (earlier attempts of a retried task are
	// left out): the engine's output streams, and the text/plain value of the code's last
	// line (Python engines, with Options.ExecuteResults).
	Stdout, Stderr string
	ExecuteResult  string

	// ExitCode is the exit status of the command a Go (shell) engine ran: 0 on success, the
	// command's status on failure, minus the signal number if a signal killed it. It is -1
	// for failures that have none (a Python exception, an aborted request, a controller
	// error).
	ExitCode int

	Err error // nil on success; a *RemoteError for error replies, or why no reply came

	Submitted time.Time // when the client sent it
	Started   time.Time // when the engine started it (engine clock; zero if unknown)
	Received  time.Time // when the reply arrived
}

// Future is a request in flight. Its result is ready once Done is closed.
type Future struct {
	c     *Client
	msgID string
	done  chan struct{}
	res   Result // written by the loop before done is closed
}

// MsgID is the request's msg_id: give it to TaskOptions.After or Follow, or to Abort.
func (f *Future) MsgID() string { return f.msgID }

// Done is closed once the result (reply and output) is complete.
func (f *Future) Done() <-chan struct{} { return f.done }

// Wait waits for the result. The error is the result's Err, or ctx's error, or ErrClosed
// if the client stopped before the request was answered. When ctx ends first the request
// stays outstanding (the engine may still run it) and Wait may be called again.
func (f *Future) Wait(ctx context.Context) (Result, error) {
	select {
	case <-f.done:
		return f.res, f.res.Err
	case <-ctx.Done():
		return Result{MsgID: f.msgID, EngineID: -1, ExitCode: -1}, fmt.Errorf("wait for %s: %w", f.msgID, context.Cause(ctx))
	case <-f.c.done:
		select {
		case <-f.done: // the loop finished it while stopping
			return f.res, f.res.Err
		default:
			err := f.c.closedErr()
			return Result{MsgID: f.msgID, EngineID: -1, ExitCode: -1, Err: err}, err
		}
	}
}

// request is the loop's record of a Future that has been sent.
type request struct {
	fut    *Future
	engine string // uuid of the target (direct) or of the engine that replied (task)
	direct bool

	replied bool
	// idle lists the engines (by session, which is an engine's uuid) that said they were
	// done with the request. A task retried elsewhere gets an "idle" from each engine that
	// tried it; only the one from the engine that replied ends its output.
	idle    []string
	outputs []*output // by engine, usually one
	// graceEnd is when the result is delivered without the "idle" of the engine that
	// replied (the request is then in Client.graceQueue); finished: it has been delivered.
	graceEnd time.Time
	finished bool
}

// output is what one engine published for a request.
type output struct {
	engine         string
	stdout, stderr strings.Builder
	value          string
}

// outputOf returns the output of the engine whose session (uuid) is engine.
func (r *request) outputOf(engine string) *output {
	for _, o := range r.outputs {
		if o.engine == engine {
			return o
		}
	}
	o := &output{engine: engine}
	r.outputs = append(r.outputs, o)
	return o
}

// sawIdle reports whether the engine that replied has published its "idle" (any engine,
// if the reply did not say which engine it came from).
func (r *request) sawIdle() bool {
	for _, e := range r.idle {
		if r.engine == "" || e == r.engine {
			return true
		}
	}
	return false
}

// newFuture makes a Future and its request for a message about to be sent.
func (c *Client) newFuture(msgID, engine string, direct bool) (*Future, *request) {
	f := &Future{c: c, msgID: msgID, done: make(chan struct{})}
	f.res = Result{MsgID: msgID, EngineID: -1, ExitCode: -1, Submitted: time.Now()}
	if engine != "" {
		f.res.EngineID = c.engines.idOf(engine)
	}
	return f, &request{fut: f, engine: engine, direct: direct}
}

// fail finishes a request that got no reply. Runs on the loop.
func (c *Client) fail(req *request, err error) {
	req.fut.res.Err = err
	c.finish(req)
}

// finish publishes the result and forgets the request. Runs on the loop.
func (c *Client) finish(req *request) {
	req.finished = true
	c.trimGraceQueue()
	res := &req.fut.res
	for _, o := range req.outputs {
		// the engine that replied; all of them if none did (the engine died, or the client
		// closed)
		if req.replied && req.engine != "" && o.engine != req.engine {
			continue
		}
		res.Stdout += o.stdout.String()
		res.Stderr += o.stderr.String()
		if o.value != "" {
			res.ExecuteResult = o.value
		}
	}
	delete(c.pending, res.MsgID)
	close(req.fut.done)
}

// replyMetadata is what engines put in a reply's metadata.
type replyMetadata struct {
	Engine  string `json:"engine"`
	Started string `json:"started"`
}

// replyContent is an execute_reply (or a controller-made apply_reply) content.
type replyContent struct {
	errorContent
	ExitCode *int `json:"exit_code"` // Go engine: the failed command's exit status
}

// onReply handles execute replies from the mux, task and broadcast sockets.
func (c *Client) onReply(frames [][]byte) {
	r, ok := c.decode("reply", frames)
	if !ok {
		return
	}
	rawID, _ := parentID(r)
	req := c.pending[string(rawID)]
	if req == nil || req.replied {
		return // already failed locally (engine unregistered), or not ours
	}
	msgID := req.fut.msgID
	md := parseReplyMetadata(r.Metadata)
	content, err := parseReplyContent(r.Content)
	if err != nil {
		c.fail(req, fmt.Errorf("malformed reply to %s: %w", msgID, err))
		return
	}
	res := &req.fut.res
	res.Received = time.Now()
	if md.Engine != "" {
		req.engine = md.Engine
		res.EngineID = c.engines.idOf(md.Engine)
	}
	if t, err := wire.ParseDate(md.Started); err == nil && md.Started != "" {
		res.Started = t
	}
	res.Status = content.Status
	req.replied = true
	expectOutput := true
	switch content.Status {
	case "ok":
		res.ExitCode = 0
	case "aborted":
		res.Err = &RemoteError{EngineID: res.EngineID, Name: "TaskAborted", Value: msgID}
		expectOutput = false // an aborted request never ran, so no output will follow
	default:
		if content.ExitCode != nil {
			res.ExitCode = *content.ExitCode
		}
		res.Err = statusError(r.Content, res.EngineID)
		// only an engine that ran the code sends output; controller errors have none
		expectOutput = content.fromEngine()
	}
	if !expectOutput || req.sawIdle() {
		c.finish(req)
		return
	}
	req.graceEnd = res.Received.Add(c.opts.OutputGrace)
	c.graceQueue = append(c.graceQueue, req)
	if c.graceTimer == nil {
		c.graceTimer = c.loop.After(c.opts.OutputGrace, c.graceExpired)
	}
}

// Requests waiting for their "idle" after the reply share one timer: all wait the same
// OutputGrace, so the queue, in reply order, is in deadline order too, and the timer only
// ever needs to be armed for its head.

// graceExpired delivers the results whose grace has ended, and arms the timer for the
// next one. Runs on the loop.
func (c *Client) graceExpired() {
	c.graceTimer = nil
	c.trimGraceQueue()
	now := time.Now()
	for len(c.graceQueue) > 0 {
		req := c.graceQueue[0]
		if req.graceEnd.After(now) {
			c.graceTimer = c.loop.After(req.graceEnd.Sub(now), c.graceExpired)
			return
		}
		c.log.Debug("no idle status after reply; output may be incomplete", "msg_id", req.fut.msgID)
		c.finish(req) // and drops it from the queue
	}
}

// trimGraceQueue drops delivered requests from the head of the grace queue.
func (c *Client) trimGraceQueue() {
	for len(c.graceQueue) > 0 && c.graceQueue[0].finished {
		c.graceQueue[0] = nil
		c.graceQueue = c.graceQueue[1:]
	}
}

// onIOPub collects the output of this client's requests: streams, the execute result,
// and the "idle" status that ends a request's output.
func (c *Client) onIOPub(frames [][]byte) {
	if !wanted(frames) {
		return
	}
	r, ok := c.decode("iopub", frames)
	if !ok {
		return
	}
	msgID, session := parentID(r)
	if string(session) != c.session.ID {
		return
	}
	req := c.pending[string(msgID)]
	if req == nil {
		return
	}
	msgType, rawEngine, err := headerTypeSession(r.Header)
	if err != nil {
		return
	}
	engine := req.engine // the publisher's session, which is its uuid
	if string(rawEngine) != engine {
		engine = string(rawEngine)
	}
	switch string(msgType) {
	case "stream":
		var s struct{ Name, Text string }
		json.Unmarshal(r.Content, &s)
		if out := req.outputOf(engine); s.Name == "stderr" {
			out.stderr.WriteString(s.Text)
		} else {
			out.stdout.WriteString(s.Text)
		}
	case "execute_result":
		var v struct {
			Data map[string]json.RawMessage `json:"data"`
		}
		json.Unmarshal(r.Content, &v)
		json.Unmarshal(v.Data["text/plain"], &req.outputOf(engine).value)
	case "status":
		if string(executionState(r.Content)) == "idle" {
			req.idle = append(req.idle, engine)
			if req.replied && req.sawIdle() {
				c.finish(req)
			}
		}
	}
}

// wanted tells from an iopub message's topic (engine.<id>.<type>) and unverified content
// whether onIOPub could use it, so that the messages it would ignore anyway (busy status,
// execute_input: half of an engine's traffic) cost neither a signature check nor parsing.
// Messages without the usual topic are always looked at.
func wanted(frames [][]byte) bool {
	if len(frames) == 0 {
		return false
	}
	topic := frames[0]
	i := bytes.LastIndexByte(topic, '.')
	if i < 0 || !bytes.HasPrefix(topic, []byte("engine.")) {
		return true
	}
	switch string(topic[i+1:]) {
	case "stream", "execute_result":
		return true
	case "status":
		// the content frame, where wire.Split would find it
		i := wire.DelimiterIndex(frames)
		return i >= 0 && len(frames)-i-1 >= 5 && bytes.Contains(frames[i+5], []byte("idle"))
	case "execute_input", "error", "display_data", "data_message", "shutdown_reply":
		return false
	}
	return true
}

// strand settles the requests of an engine that unregistered: direct requests without a
// reply fail with EngineError, as ipyparallel's Client does, and replied ones stop waiting
// for output. (Tasks are failed by the controller's scheduler, which knows where they run.)
func (c *Client) strand(id int, uuid string) {
	for _, req := range c.pending {
		if req.engine != uuid {
			continue
		}
		if req.replied {
			c.finish(req)
		} else if req.direct {
			c.fail(req, &RemoteError{EngineID: -1, Name: "EngineError",
				Value: fmt.Sprintf("Engine %d died while running task %q", id, req.fut.msgID)})
		}
	}
}

// failAll fails everything outstanding once the loop has stopped.
func (c *Client) failAll(cause error) {
	for _, req := range c.pending {
		c.fail(req, cause)
	}
	for id, w := range c.waiters {
		delete(c.waiters, id)
		w.settle(nil, cause)
	}
}
