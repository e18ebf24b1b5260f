package engine

import (
	"encoding/json"
	"fmt"
	"time"

	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

// register sends the registration_request and arms the reply timeout.
func (e *Engine) register() error {
	if err := e.reg.Connect(e.ends.registration); err != nil {
		return fmt.Errorf("%w: %w", ErrRegistration, err)
	}
	content := map[string]any{"uuid": e.cfg.UUID}
	if e.cfg.ID != nil {
		content["id"] = *e.cfg.ID
		e.log.Info("requesting engine id", "id", *e.cfg.ID)
	}
	if err := e.send(e.reg, nil, "registration_request", nil, nil, content); err != nil {
		return fmt.Errorf("%w: %w", ErrRegistration, err)
	}
	e.log.Info("registering with the controller", "url", e.ends.registration)
	e.regTimer = e.loop.After(e.cfg.RegistrationTimeout, func() {
		// ipyparallel's engine also sends an unregistration_request here; we do not,
		// because a send on a DEALER that has no usable peer blocks (the controller drops
		// a pending registration after its own timeout anyway).
		e.fail(fmt.Errorf("%w: no registration_reply from %s within %s: is the controller running, and listening on an address this host can reach? "+
			"If it is, it may have rejected the request for a key mismatch (a controller drops messages signed with another key, without a reply): "+
			"check that the key in %s is this controller's, not one from another controller or cluster",
			ErrRegistration, e.ends.registration, e.cfg.RegistrationTimeout, e.keySource()))
	})
	return nil
}

// keySource names where the engine's key came from, for the key-mismatch hint.
func (e *Engine) keySource() string {
	if e.cfg.InfoFrom != "" {
		return e.cfg.InfoFrom
	}
	return "the connection info"
}

// fail ends Run with err when nothing is running yet (registration failures).
func (e *Engine) fail(err error) {
	e.result = err
	e.stopping = true
	e.loop.Stop()
}

func (e *Engine) onRegistration(frames [][]byte) {
	r, err := e.session.Decode(frames)
	if err != nil {
		e.log.Warn("dropped bad message on the registration socket", "err", err)
		return
	}
	h, err := wire.ParseHeader(r.Header)
	if err != nil || h.MsgType != "registration_reply" || e.registered || e.stopping {
		return
	}
	e.regTimer.Stop()
	var reply struct {
		Status   string `json:"status"`
		ID       *int   `json:"id"`
		HBPeriod int    `json:"hb_period"`
		EName    string `json:"ename"`
		EValue   string `json:"evalue"`
	}
	if err := json.Unmarshal(r.Content, &reply); err != nil || reply.Status != "ok" || reply.ID == nil {
		why := reply.EName + ": " + reply.EValue
		if err != nil || reply.Status == "ok" {
			why = fmt.Sprintf("malformed reply %s", r.Content)
		}
		e.fail(fmt.Errorf("%w: controller at %s answered %s", ErrRegistration, e.ends.registration, why))
		return
	}
	if e.cfg.ID != nil && *reply.ID != *e.cfg.ID {
		e.log.Warn("did not get the requested engine id", "requested", *e.cfg.ID, "got", *reply.ID)
	}
	e.registered = true
	e.id.Store(int64(*reply.ID))
	e.log = e.log.With("id", *reply.ID)
	if err := e.connect(); err != nil {
		e.stop(fmt.Errorf("connect to the controller: %w", err), nil, "cannot connect")
		return
	}
	e.startHeartbeatWatch(time.Duration(reply.HBPeriod) * time.Millisecond)
	e.publish("status", nil, statusStarting)
	e.log.Info("registered", "hb_period_ms", reply.HBPeriod)
}

// connect attaches the shell, control and iopub sockets, and the heart last: the
// controller completes the registration on the first echo, after which clients may send
// requests, so everything else must be connected by then.
func (e *Engine) connect() error {
	id := e.ID()
	bcast := e.ends.broadcast[id%len(e.ends.broadcast)]
	for _, c := range []struct {
		sock *transport.Socket
		url  string
	}{
		{e.shell, e.ends.mux}, {e.shell, e.ends.task}, {e.shell, bcast},
		{e.control, e.ends.control}, {e.iopub, e.ends.iopub},
		{e.heartOut, e.ends.hbPong}, {e.heartIn, e.ends.hbPing},
	} {
		if err := c.sock.Connect(c.url); err != nil {
			return err
		}
	}
	return e.heartIn.Subscribe("")
}

// onPing echoes every heartbeat ping unchanged and notes that the controller is alive. A
// notice that the controller does not know this engine (it was unregistered, e.g. after
// being stopped longer than the controller's heartbeat limit) stops the engine: nothing
// would ever be sent to it again.
func (e *Engine) onPing(frames [][]byte) {
	if len(frames) == 1 {
		if uuid, ok := wire.UnknownHeart(frames[0]); ok {
			if uuid == e.cfg.UUID && !e.stopping {
				e.registered = false // nothing to unregister: the id may be another engine's now
				e.stop(fmt.Errorf("%w: the controller at %s no longer knows engine %d (uuid %s); it was unregistered, probably after missing heartbeats (stopped or too slow); start a new engine",
					ErrUnregistered, e.ends.registration, e.ID(), uuid), nil, "unregistered by the controller")
			}
			return
		}
	}
	e.pinged = true
	if err := e.heartOut.Send(frames); err != nil {
		e.log.Warn("heartbeat echo failed", "err", err)
	}
}

// startHeartbeatWatch checks, like ipyparallel's engine, every hb_period+500 ms whether a
// ping arrived; after MaxHeartbeatMisses empty checks in a row the controller is gone.
func (e *Engine) startHeartbeatWatch(period time.Duration) {
	if period <= 0 {
		e.log.Info("the controller sends no heartbeats; not monitoring it")
		return
	}
	e.hbCheck = period + 500*time.Millisecond
	e.pinged = true // count from now, not from before registration
	var check func()
	check = func() {
		if e.stopping {
			return
		}
		if e.pinged {
			e.misses = 0
		} else {
			e.misses++
			e.log.Warn("no heartbeat from the controller", "period", e.hbCheck, "misses", e.misses)
		}
		e.pinged = false
		if e.misses >= e.cfg.MaxHeartbeatMisses {
			e.stop(fmt.Errorf("%w: no heartbeat for %s (%d checks, every %s): the controller at %s stopped or is unreachable",
				ErrControllerGone, time.Duration(e.misses)*e.hbCheck, e.misses, e.hbCheck, e.ends.registration), nil, "heartbeat lost")
			return
		}
		e.loop.After(e.hbCheck, check)
	}
	e.loop.After(e.hbCheck, check)
}
