package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

// ExecuteAsync sends code to each target engine (none: every registered engine) on the
// direct (mux) channel and returns one Future per target, in order. It does not wait for
// the engines.
func (c *Client) ExecuteAsync(ctx context.Context, targets []int, code string) ([]*Future, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	_, uuids, err := c.engines.resolve(targets)
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	content := c.executeContentJSON(code)
	futs := make([]*Future, len(uuids))
	for i, uuid := range uuids {
		msgID, frames := c.enc.message([][]byte{[]byte(uuid)}, "execute_request", []byte("{}"), content)
		futs[i] = c.post(c.mux, uuid, true, msgID, frames)
	}
	return futs, nil
}

// BroadcastAsync sends code to the target engines (none: every registered engine) as one
// message through the controller's broadcast scheduler, which fans it out; it returns one
// Future per target, in order. Engines answer the copy addressed to them, whose msg_id is
// "<msg_id>_<engine uuid>".
func (c *Client) BroadcastAsync(ctx context.Context, targets []int, code string) ([]*Future, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("broadcast: %w", err)
	}
	ids, uuids, err := c.engines.resolve(targets)
	if err != nil {
		return nil, fmt.Errorf("broadcast: %w", err)
	}
	pairs := make([][2]any, len(ids))
	for i := range ids {
		pairs[i] = [2]any{uuids[i], ids[i]}
	}
	md := map[string]any{"targets": pairs, "is_broadcast": true, "is_coalescing": false}
	hdr := c.session.NewHeader("execute_request")
	frames, err := c.session.Serialize(&wire.Message{Header: hdr, Metadata: md, Content: c.executeContentJSON(code)})
	if err != nil {
		return nil, fmt.Errorf("broadcast: %w", err)
	}
	futs := make([]*Future, len(ids))
	reqs := make([]*request, len(ids))
	for i, uuid := range uuids {
		futs[i], reqs[i] = c.newFuture(hdr.MsgID+"_"+uuid, uuid, true)
	}
	c.loop.Post(func() {
		for _, req := range reqs {
			if !c.engines.registered(req.engine) { // gone meanwhile: no reply will come
				c.fail(req, unsent(req.fut.res.EngineID))
				continue
			}
			c.pending[req.fut.msgID] = req
		}
		if err := c.bcast.Send(frames); err != nil {
			for _, req := range reqs {
				if c.pending[req.fut.msgID] == req {
					c.fail(req, fmt.Errorf("send: %w", err))
				}
			}
		}
	})
	return futs, nil
}

// Execute runs code on each target engine (none: every registered engine) and waits for
// all of them. It returns one Result per target, in order; the error joins the failures
// (each a *RemoteError naming its engine), or is ctx's error if it ended first.
func (c *Client) Execute(ctx context.Context, targets []int, code string) ([]Result, error) {
	futs, err := c.ExecuteAsync(ctx, targets, code)
	if err != nil {
		return nil, err
	}
	return WaitAll(ctx, futs)
}

// WaitAll waits for every future and returns their results in order, with their errors
// joined.
func WaitAll(ctx context.Context, futs []*Future) ([]Result, error) {
	results := make([]Result, len(futs))
	var errs []error
	for i, f := range futs {
		res, err := f.Wait(ctx)
		results[i] = res
		if err != nil {
			if ctx.Err() != nil {
				return results, err
			}
			errs = append(errs, err)
		}
	}
	return results, errors.Join(errs...)
}

// Outcome says which endings of a task satisfy a dependency on it.
type Outcome uint8

// Outcomes; the zero value means OnSuccess.
const (
	OnSuccess Outcome = 1 << iota
	OnFailure
)

// Dependency is a set of tasks (by msg_id) that another task waits for (TaskOptions.After)
// or must run beside (TaskOptions.Follow). By default it is met once all of them succeeded.
type Dependency struct {
	MsgIDs []string
	Any    bool    // met by any one of them instead of all
	On     Outcome // which endings count (default OnSuccess; OnSuccess|OnFailure: any ending)
}

// DependOn is the default dependency (all succeeded) on the given futures.
func DependOn(futs ...*Future) Dependency {
	ids := make([]string, len(futs))
	for i, f := range futs {
		ids[i] = f.MsgID()
	}
	return Dependency{MsgIDs: ids}
}

// wire form: a plain list for the default flags, as LoadBalancedView sends it, else the
// dict form with all/success/failure.
func (d Dependency) wire() any {
	ids := d.MsgIDs
	if ids == nil {
		ids = []string{}
	}
	on := d.On
	if on == 0 {
		on = OnSuccess
	}
	if !d.Any && on == OnSuccess {
		return ids
	}
	return map[string]any{"dependencies": ids, "all": !d.Any, "success": on&OnSuccess != 0, "failure": on&OnFailure != 0}
}

// TaskOptions shape a load-balanced task; the zero value runs it anywhere, once.
type TaskOptions struct {
	Targets []int         // engines allowed to run it (default: any)
	After   Dependency    // run only once these tasks have finished
	Follow  Dependency    // run only on an engine where these tasks ran
	Timeout time.Duration // fail with ErrTaskTimeout if dependencies are not met in time (0: never)
	Retries int           // times to resubmit it to another engine after it fails
}

// Submit sends code as a load-balanced task: the controller's scheduler picks the engine.
// It does not wait; many tasks may be outstanding at once. ctx bounds only the submission;
// wait for the result with Future.Wait.
func (c *Client) Submit(ctx context.Context, code string, opts TaskOptions) (*Future, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	targets := []string{}
	if len(opts.Targets) > 0 {
		_, uuids, err := c.engines.resolve(opts.Targets)
		if err != nil {
			return nil, fmt.Errorf("submit: %w", err)
		}
		targets = uuids
	}
	msgID, frames, err := c.encodeTask(code, opts, targets)
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	return c.post(c.task, "", false, msgID, frames), nil
}

// encodeTask serializes a task's execute_request; targets are engine uuids.
func (c *Client) encodeTask(code string, opts TaskOptions, targets []string) (msgID string, frames [][]byte, err error) {
	md, err := taskMetadataJSON(opts, targets)
	if err != nil {
		return "", nil, err
	}
	msgID, frames = c.enc.message(nil, "execute_request", md, c.executeContentJSON(code))
	return msgID, frames, nil
}

// post hands a serialized request to the loop, which records it and sends it.
func (c *Client) post(sock *transport.Socket, engine string, direct bool, msgID string, frames [][]byte) *Future {
	f, req := c.newFuture(msgID, engine, direct)
	c.loop.Post(func() {
		if engine != "" && !c.engines.registered(engine) {
			c.fail(req, unsent(f.res.EngineID))
			return
		}
		c.pending[msgID] = req
		if err := sock.Send(frames); err != nil {
			c.fail(req, fmt.Errorf("send: %w", err))
		}
	})
	return f
}

// unsent is the failure of a request whose engine unregistered before it could be sent.
func unsent(id int) error {
	return &RemoteError{EngineID: -1, Name: "EngineError", Value: fmt.Sprintf("engine %d unregistered before the request was sent", id)}
}
