package client

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"ipcluster/runtime/wire"
)

// engineTable is the client's view of the registered engines. The loop writes it (from the
// connection_reply and the Hub's notifications); any goroutine reads it.
type engineTable struct {
	mu      sync.Mutex
	ids     map[int]string // registered engines: id -> uuid
	names   map[string]int // every engine ever seen: uuid -> id (ids are never reused)
	dead    map[int]bool   // unregistered ids, which a stale connection_reply must not revive
	changed chan struct{}  // closed and replaced whenever ids changes
}

func (t *engineTable) init() {
	t.ids, t.names, t.dead = map[int]string{}, map[string]int{}, map[int]bool{}
	t.changed = make(chan struct{})
}

// notify wakes the watchers. Call with mu held.
func (t *engineTable) notify() {
	close(t.changed)
	t.changed = make(chan struct{})
}

func (t *engineTable) add(id int, uuid string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dead[id] || t.ids[id] == uuid {
		return
	}
	t.ids[id] = uuid
	t.names[uuid] = id
	t.notify()
}

func (t *engineTable) remove(id int) (uuid string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dead[id] = true
	if uuid, ok = t.ids[id]; ok {
		delete(t.ids, id)
		t.notify()
	}
	return uuid, ok
}

// watch returns the sorted registered ids and a channel closed at the next change.
func (t *engineTable) watch() ([]int, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := make([]int, 0, len(t.ids))
	for id := range t.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, t.changed
}

// idOf names the engine with this uuid; -1 if it was never registered.
func (t *engineTable) idOf(uuid string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.names[uuid]; ok {
		return id
	}
	return -1
}

func (t *engineTable) registered(uuid string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	id, ok := t.names[uuid]
	return ok && t.ids[id] == uuid
}

// resolve maps target ids to uuids; no targets means every registered engine.
func (t *engineTable) resolve(targets []int) (ids []int, uuids []string, err error) {
	if len(targets) == 0 {
		ids, _ = t.watch()
		if len(ids) == 0 {
			return nil, nil, ErrNoEngines
		}
	} else {
		ids = targets
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	uuids = make([]string, len(ids))
	for i, id := range ids {
		uuid, ok := t.ids[id]
		if !ok {
			return nil, nil, fmt.Errorf("engine %d: %w", id, ErrNoSuchEngine)
		}
		uuids[i] = uuid
	}
	return ids, uuids, nil
}

// IDs returns the ids of the registered engines, sorted.
func (c *Client) IDs() []int {
	ids, _ := c.engines.watch()
	return ids
}

// WaitForEngines waits until at least n engines are registered and returns their ids. The
// Hub's notifications drive it; the Hub is also asked now and then, in case a notification
// was published before this client's subscription was in place.
func (c *Client) WaitForEngines(ctx context.Context, n int) ([]int, error) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		ids, changed := c.engines.watch()
		if len(ids) >= n {
			return ids, nil
		}
		select {
		case <-changed:
		case <-tick.C:
			if err := c.refresh(ctx); err != nil && ctx.Err() == nil {
				return ids, fmt.Errorf("wait for %d engines: %w", n, err)
			}
		case <-ctx.Done():
			return ids, fmt.Errorf("wait for %d engines (%d registered): %w", n, len(ids), context.Cause(ctx))
		case <-c.done:
			return ids, c.closedErr()
		}
	}
}

// refresh asks the Hub for the registered engines (connection_request) and merges the
// answer with what notifications said meanwhile: an engine known before the request but
// absent from the reply has gone; a listed engine that has since unregistered stays gone.
func (c *Client) refresh(ctx context.Context) error {
	var before []int
	r, err := c.call(ctx, call{
		sock: c.query, msgType: "connection_request", content: map[string]any{},
		beforeSend: func() { before, _ = c.engines.watch() },
	})
	if err != nil {
		return err
	}
	var content struct {
		Engines map[string]string `json:"engines"`
	}
	if err := json.Unmarshal(r.Content, &content); err != nil {
		return fmt.Errorf("connection_reply: %w", err)
	}
	listed := map[int]string{}
	for key, uuid := range content.Engines {
		id, err := strconv.Atoi(key)
		if err != nil {
			return fmt.Errorf("connection_reply: engine id %q: %w", key, err)
		}
		listed[id] = uuid
	}
	return c.do(func() {
		for _, id := range before {
			if _, ok := listed[id]; !ok {
				c.engineGone(id)
			}
		}
		for id, uuid := range listed {
			c.engines.add(id, uuid)
		}
	})
}

// onNotification handles the Hub's PUB: engines coming and going, and its shutdown.
func (c *Client) onNotification(frames [][]byte) {
	r, ok := c.decode("notification", frames)
	if !ok {
		return
	}
	h, err := wire.ParseHeader(r.Header)
	if err != nil {
		return
	}
	var content struct {
		ID   *int   `json:"id"`
		UUID string `json:"uuid"`
	}
	json.Unmarshal(r.Content, &content)
	switch h.MsgType {
	case "registration_notification":
		if content.ID != nil {
			c.engines.add(*content.ID, content.UUID)
		}
	case "unregistration_notification":
		if content.ID != nil {
			c.engineGone(*content.ID)
		}
	case "shutdown_notification":
		c.shutDownByController()
	default:
		c.log.Debug("unexpected notification", "msg_type", h.MsgType)
	}
}

// engineGone drops an unregistered engine and settles what was waiting on it. Runs on the
// loop.
func (c *Client) engineGone(id int) {
	uuid, ok := c.engines.remove(id)
	if !ok {
		return
	}
	c.strand(id, uuid)
	for msgID, w := range c.waiters {
		if w.engine == uuid {
			delete(c.waiters, msgID)
			w.settle(nil, w.gone(id))
		}
	}
}
