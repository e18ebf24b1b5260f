package controller

import (
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"ipcluster/profiles"
	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

// engineEntry is a registered engine and the Hub's view of its work.
type engineEntry struct {
	id        int
	uuid      string
	queue     *orderedSet // pending direct (mux) requests
	tasks     *orderedSet // pending load-balanced tasks placed on it
	completed []string    // finished requests, direct and tasks
}

// pendingRegistration waits for the engine's first heartbeat.
type pendingRegistration struct {
	id    int
	uuid  string
	timer *transport.Timer
}

// hub is the engine table and the bookkeeping behind the queries.
type hub struct {
	c            *Controller
	engines      map[int]*engineEntry
	byUUID       map[string]*engineEntry
	incoming     map[string]*pendingRegistration
	nextID       int
	pending      *orderedSet // every request not yet answered
	allCompleted stringSet
	unassigned   *orderedSet // tasks not yet placed on an engine
	lastJoin     time.Time   // when the last connection_reply went out (see joining.go)
	stateDirty   bool        // the engine table changed since it was last written
	stateWritten time.Time   // when it was last written
	stateTimer   bool        // a write is scheduled
}

func newHub(c *Controller) *hub {
	return &hub{
		c:            c,
		engines:      map[int]*engineEntry{},
		byUUID:       map[string]*engineEntry{},
		incoming:     map[string]*pendingRegistration{},
		pending:      newOrderedSet(),
		allCompleted: stringSet{},
		unassigned:   newOrderedSet(),
	}
}

// ids returns the registered engine ids in order.
func (h *hub) ids() []int {
	ids := make([]int, 0, len(h.engines))
	for id := range h.engines {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

func (h *hub) idInUse(id int) bool {
	if _, ok := h.engines[id]; ok {
		return true
	}
	for _, p := range h.incoming {
		if p.id == id {
			return true
		}
	}
	return false
}

// registerEngine answers a registration_request. The engine becomes visible only when its
// heart first beats (completeRegistration), so that no client routes to it before its
// sockets are connected.
func (h *hub) registerEngine(idents [][]byte, r *wire.Raw) {
	var content struct {
		UUID string `json:"uuid"`
		ID   *int   `json:"id"`
	}
	if err := json.Unmarshal(r.Content, &content); err != nil || content.UUID == "" {
		h.c.log.Error("registration request without uuid", "peer", peerName(idents))
		return
	}
	uuid := content.UUID
	if _, dup := h.byUUID[uuid]; dup || h.incoming[uuid] != nil {
		h.c.log.Error("registration refused: uuid in use", "uuid", uuid)
		h.c.reply(h.c.query, idents, "registration_reply", r.Header, nil,
			keyError("uuid '"+uuid+"' in use", "register_engine"), nil)
		return
	}
	var id int
	if content.ID != nil && *content.ID >= 0 && !h.idInUse(*content.ID) {
		id = *content.ID
		h.nextID = max(h.nextID, id+1)
	} else {
		if content.ID != nil {
			h.c.log.Warn("requested engine id is taken; assigning another", "requested", *content.ID)
		}
		for h.idInUse(h.nextID) {
			h.nextID++
		}
		id = h.nextID
		h.nextID++
	}
	ei := h.c.engineInfo
	reply := map[string]any{
		"status":    "ok",
		"id":        id,
		"hb_period": h.c.cfg.Ping.Milliseconds(),
		"connection_info": map[string]any{
			"interface": ei.Interface, "registration": ei.Registration, "control": ei.Control, "mux": ei.Mux,
			"task": ei.Task, "iopub": ei.IOPub, "hb_ping": ei.HBPing, "hb_pong": ei.HBPong, "broadcast": ei.Broadcast,
		},
	}
	h.c.reply(h.c.query, idents, "registration_reply", r.Header, nil, reply, nil)
	p := &pendingRegistration{id: id, uuid: uuid}
	p.timer = h.c.loop.After(h.c.cfg.registrationTimeout(), func() {
		if h.incoming[uuid] == p {
			delete(h.incoming, uuid)
			h.c.hearts.forget(uuid)
			h.c.log.Error("registration timed out: no heartbeat from engine", "id", id, "uuid", uuid)
		}
	})
	h.incoming[uuid] = p
	h.c.log.Info("registration pending, waiting for the first heartbeat", "id", id, "uuid", uuid)
	h.c.hearts.expect(uuid)
}

// completeRegistration makes a pending engine visible: called on its first heartbeat.
func (h *hub) completeRegistration(uuid string) bool {
	p := h.incoming[uuid]
	if p == nil {
		return false
	}
	delete(h.incoming, uuid)
	p.timer.Stop()
	e := &engineEntry{id: p.id, uuid: uuid, queue: newOrderedSet(), tasks: newOrderedSet()}
	h.engines[e.id] = e
	h.byUUID[uuid] = e
	h.engineStateChanged()
	h.notifyRegistration(e)
	h.c.tasks.addEngine(uuid)
	h.c.log.Info("engine registered", "id", e.id, "uuid", uuid)
	return true
}

// unregisterEngine removes an engine: heart failure, unregistration_request, or its iopub
// shutdown_reply.
func (h *hub) unregisterEngine(id int, why string) {
	e := h.engines[id]
	if e == nil {
		for uuid, p := range h.incoming { // 9.x: unregistering a pending id cancels it
			if p.id == id {
				p.timer.Stop()
				delete(h.incoming, uuid)
				h.c.hearts.forget(uuid)
			}
		}
		h.c.log.Debug("unregistration of unknown or departed engine ignored", "id", id, "why", why)
		return
	}
	delete(h.engines, id)
	delete(h.byUUID, e.uuid)
	h.c.hearts.forget(e.uuid)
	if why != whyHeartbeatLost {
		h.c.hearts.departed(e.uuid)
	}
	h.engineStateChanged()
	h.c.reply(h.c.notifier, nil, "unregistration_notification", nil, nil, map[string]any{"id": id, "uuid": e.uuid}, nil)
	h.c.log.Info("engine unregistered", "id", id, "uuid", e.uuid, "why", why)
	h.c.tasks.removeEngine(e.uuid)
	if e.queue.len() > 0 {
		h.c.loop.After(h.c.cfg.StrandedGrace, func() { h.failStranded(e) })
	}
}

// failStranded records direct requests left on a dead engine as failed with EngineError.
// (The Python client fails its own copies when it sees the unregistration.)
func (h *hub) failStranded(e *engineEntry) {
	for _, msgID := range e.queue.list() {
		if !h.pending.remove(msgID) {
			continue
		}
		h.allCompleted.add(msgID)
		now := wire.Now()
		content, _ := json.Marshal(errorContent("EngineError",
			"Engine "+strconv.Itoa(e.id)+" died while running task "+pyRepr(msgID), "handle_stranded_msgs"))
		header, _ := json.Marshal(map[string]any{"engine": e.uuid, "date": now})
		h.c.db.update(msgID, func(r *Record) {
			r.ResultContent, r.ResultHeader = content, header
			r.ResultBuffers, r.resultBufsSet = nil, true
			r.Completed, r.EngineUUID = now, e.uuid
		})
	}
}

// engineStateDelay gathers the engine table's changes in a burst into one write: rewriting
// the whole table at each registration made a storm of N engines cost N writes of up to N
// entries. A change after a quiet spell is written at once (a controller killed right after
// an engine registered still leaves it in the table for --restore); within a burst, the
// table is at most this much behind.
const engineStateDelay = 100 * time.Millisecond

// engineStateChanged writes the engine table now, or within engineStateDelay if it was
// written less than that ago.
func (h *hub) engineStateChanged() {
	h.stateDirty = true
	if h.stateTimer {
		return
	}
	if wait := engineStateDelay - time.Since(h.stateWritten); wait > 0 {
		h.stateTimer = true
		h.c.loop.After(wait, func() {
			h.stateTimer = false
			h.flushEngineState()
		})
		return
	}
	h.flushEngineState()
}

// flushEngineState writes the engine table if it changed; the controller calls it once
// more when its loop has stopped.
func (h *hub) flushEngineState() {
	if h.stateDirty {
		h.stateDirty = false
		h.stateWritten = time.Now()
		h.saveEngineState()
	}
}

// saveEngineState rewrites log/engines<cluster_id>.json.
func (h *hub) saveEngineState() {
	engines := map[string]string{}
	for id, e := range h.engines {
		engines[strconv.Itoa(id)] = e.uuid
	}
	path := h.engineStateFile()
	if err := profiles.WritePlain(path, map[string]any{"engines": engines, "next_id": h.nextID}); err != nil {
		h.c.log.Warn("cannot write engine state", "err", err)
	}
}

// now is the Hub clock for "received".
func now() string { return wire.FormatDate(time.Now()) }
