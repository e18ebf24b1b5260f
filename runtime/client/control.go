package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// EngineQueue is one engine's line of the Hub's queue status.
type EngineQueue struct {
	Queue     int `json:"queue"`     // direct requests waiting or running
	Tasks     int `json:"tasks"`     // load-balanced tasks placed on it, not finished
	Completed int `json:"completed"` // requests it finished
}

// QueueStatus is the Hub's answer to queue_request.
type QueueStatus struct {
	Unassigned int                 // tasks not yet placed on an engine
	Engines    map[int]EngineQueue // by engine id
}

// QueueStatus asks the Hub how busy the target engines (none: all) are.
func (c *Client) QueueStatus(ctx context.Context, targets []int) (QueueStatus, error) {
	var t any // null asks for every engine
	if len(targets) > 0 {
		t = targets
	}
	r, err := c.call(ctx, call{sock: c.query, msgType: "queue_request", content: map[string]any{"targets": t, "verbose": false}})
	if err != nil {
		return QueueStatus{}, err
	}
	var content map[string]json.RawMessage
	if err := json.Unmarshal(r.Content, &content); err != nil {
		return QueueStatus{}, fmt.Errorf("queue_reply: %w", err)
	}
	qs := QueueStatus{Engines: map[int]EngineQueue{}}
	for key, raw := range content {
		switch key {
		case "status":
		case "unassigned":
			if err := json.Unmarshal(raw, &qs.Unassigned); err != nil {
				return QueueStatus{}, fmt.Errorf("queue_reply: unassigned: %w", err)
			}
		default:
			id, err := strconv.Atoi(key)
			if err != nil {
				continue // a key this client does not know
			}
			var q EngineQueue
			if err := json.Unmarshal(raw, &q); err != nil {
				return QueueStatus{}, fmt.Errorf("queue_reply: engine %d: %w", id, err)
			}
			qs.Engines[id] = q
		}
	}
	return qs, nil
}

// Abort asks the target engines (none: all) not to run the given requests, which must not
// have started yet; they then finish with ErrAborted. No msgIDs aborts everything queued.
func (c *Client) Abort(ctx context.Context, targets []int, msgIDs []string) error {
	if msgIDs == nil {
		msgIDs = []string{}
	}
	return c.toEngines(ctx, targets, "abort_request", map[string]any{"msg_ids": msgIDs}, false)
}

// ShutdownEngines asks the target engines (none: all) to exit and waits until each has
// replied or unregistered.
func (c *Client) ShutdownEngines(ctx context.Context, targets []int) error {
	return c.toEngines(ctx, targets, "shutdown_request", map[string]any{"restart": false}, true)
}

// ShutdownHub asks the controller to exit. The client closes itself afterwards, as it does
// whenever the controller announces its shutdown.
func (c *Client) ShutdownHub(ctx context.Context) error {
	_, err := c.call(ctx, call{sock: c.query, msgType: "shutdown_request", content: map[string]any{}})
	if errors.Is(err, ErrControllerShutdown) {
		err = nil // the announcement overtook the reply
	}
	if err != nil {
		return fmt.Errorf("shut down the hub: %w", err)
	}
	c.Close()
	return nil
}

// Shutdown stops every engine, then the controller, like ipyparallel's
// Client.shutdown(hub=True).
func (c *Client) Shutdown(ctx context.Context) error {
	if err := c.ShutdownEngines(ctx, nil); err != nil && !errors.Is(err, ErrNoEngines) {
		return err
	}
	return c.ShutdownHub(ctx)
}

// toEngines sends one control request per target engine and waits for every reply.
func (c *Client) toEngines(ctx context.Context, targets []int, msgType string, content any, goneOK bool) error {
	ids, uuids, err := c.engines.resolve(targets)
	if err != nil {
		return fmt.Errorf("%s: %w", msgType, err)
	}
	errs := make(chan error, len(uuids))
	for i, uuid := range uuids {
		k := call{sock: c.control, engine: uuid, msgType: msgType, content: content, goneOK: goneOK}
		go func() {
			_, err := c.call(ctx, k)
			if err != nil {
				err = fmt.Errorf("engine %d: %w", ids[i], err)
			}
			errs <- err
		}()
	}
	var all []error
	for range uuids {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}
