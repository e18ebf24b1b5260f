package client

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// interrupt ends a Map run whose context ended: the tasks not yet started are aborted (on
// every engine, since the scheduler may still place them anywhere), the engines running
// one are told to stop it (the Go engine signals the command's process group: SIGTERM,
// then SIGKILL after StopGrace; a Python engine gets SIGINT, on which map's runner kills
// the command's group), and every outstanding task is reported as it ends. It returns
// cause once all have ended, or an error saying which did not.
func (m *mapper) interrupt(cause error) error {
	m.retry = nil // the attempts not yet resubmitted end here, unreported like the unsent tasks
	if len(m.inflight) == 0 {
		return fmt.Errorf("map interrupted: %w", cause)
	}
	ctx, cancel := context.WithTimeout(context.Background(), engineQueryTimeout)
	defer cancel()
	ids := make([]string, 0, len(m.inflight))
	for a := range m.inflight {
		ids = append(ids, a.fut.MsgID())
	}
	if err := m.c.Abort(ctx, nil, ids); err != nil {
		m.c.log.Debug("map: abort", "err", err)
	}
	running := m.runningEngines(ctx, ids)
	m.signalEngines(ctx, running, false)

	kill := time.After(m.opts.StopGrace)
	giveUp := time.After(m.opts.StopGrace + engineQueryTimeout)
	for len(m.inflight) > 0 {
		select {
		case a := <-m.finished:
			delete(m.inflight, a)
			m.deliver(a, true)
			m.progress()
		case <-kill:
			left := make([]string, 0, len(m.inflight))
			for a := range m.inflight {
				left = append(left, a.fut.MsgID())
			}
			m.signalEngines(ctx, m.runningEngines(ctx, left), true)
		case <-giveUp:
			return fmt.Errorf("map interrupted (%w), but %d tasks did not end", cause, len(m.inflight))
		}
	}
	return fmt.Errorf("map interrupted: %w", cause)
}

// runningEngines asks the Hub's task database which engines hold the given tasks
// unfinished, by uuid. If the controller keeps no database, every engine is named.
func (m *mapper) runningEngines(ctx context.Context, msgIDs []string) []string {
	r, err := m.c.call(ctx, call{sock: m.c.query, msgType: "db_request", content: map[string]any{
		"query": map[string]any{"msg_id": map[string]any{"$in": msgIDs}},
		"keys":  []string{"msg_id", "engine_uuid", "completed"},
	}})
	var reply struct {
		Records []struct {
			EngineUUID *string `json:"engine_uuid"`
			Completed  any     `json:"completed"`
		} `json:"records"`
	}
	if err == nil {
		err = json.Unmarshal(r.Content, &reply)
	}
	if err != nil {
		m.c.log.Debug("map: task database unavailable; stopping the command on every engine", "err", err)
		_, uuids, _ := m.c.engines.resolve(nil)
		return uuids
	}
	seen := map[string]bool{}
	var uuids []string
	for _, rec := range reply.Records {
		if rec.EngineUUID != nil && *rec.EngineUUID != "" && rec.Completed == nil && !seen[*rec.EngineUUID] {
			seen[*rec.EngineUUID] = true
			uuids = append(uuids, *rec.EngineUUID)
		}
	}
	return uuids
}

// signalEngines stops the command running on each engine: SIGTERM (SIGKILL if kill) to a
// Go engine's command group; SIGINT to a Python engine (never SIGKILL: its nanny would
// kill the engine itself), on which the runner kills the command's group.
func (m *mapper) signalEngines(ctx context.Context, uuids []string, kill bool) {
	done := make(chan struct{}, len(uuids))
	for _, uuid := range uuids {
		id := m.c.engines.idOf(uuid)
		sig := "SIGTERM"
		if kill {
			sig = "SIGKILL"
		}
		if m.kinds.python[id] {
			sig = "SIGINT"
		}
		go func() {
			defer func() { done <- struct{}{} }()
			if _, err := m.c.call(ctx, call{sock: m.c.control, engine: uuid, msgType: "signal_request", content: map[string]any{"sig": sig}}); err != nil {
				m.c.log.Debug("map: signal", "engine", id, "signal", sig, "err", err)
			}
		}()
	}
	for range uuids {
		<-done
	}
}
