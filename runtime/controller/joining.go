package controller

import "time"

// A client connects its notification SUB only once it has its connection_reply, and a PUB
// sends nothing to a subscriber whose subscription has not arrived yet (ZeroMQ's "slow
// joiner"). Engines that register in that gap are neither in the client's connection_reply
// nor in a notification it receives: ipyparallel's Client then waits for them forever. With
// ipyparallel's controller registration takes heartbeat periods and the gap is rarely hit;
// Go engines register within milliseconds, often exactly while a client connects. So while a
// client may still be joining, each registration_notification is sent again a few times.
// Clients treat a repeated registration of the same id and uuid as a no-op.

// joinWindow is how long after a connection_reply a client may still be subscribing.
const joinWindow = 3 * time.Second

// joinRepeats are the delays at which a registration made within joinWindow is repeated.
var joinRepeats = []time.Duration{50 * time.Millisecond, 250 * time.Millisecond, time.Second, 2500 * time.Millisecond}

// clientJoining notes a connection_reply just sent.
func (h *hub) clientJoining() { h.lastJoin = time.Now() }

// notifyRegistration publishes e's registration_notification, and repeats it while a client
// may be joining and e is still registered.
func (h *hub) notifyRegistration(e *engineEntry) {
	h.publishForJoining(func() bool {
		if h.engines[e.id] != e {
			return false
		}
		h.c.reply(h.c.notifier, nil, "registration_notification", nil, nil, map[string]any{"id": e.id, "uuid": e.uuid}, nil)
		return true
	}, 0)
}

// notifyShutdown publishes shutdown_notification (answering the request whose header is
// parent) and, while a client may be joining, repeats it within the shutdown linger, so that
// a client that connected just before does not wait on a controller that is gone. Clients
// close once; a repeat finds them closed.
func (h *hub) notifyShutdown(parent []byte) {
	h.publishForJoining(func() bool {
		h.c.reply(h.c.notifier, nil, "shutdown_notification", parent, nil, map[string]any{"status": "ok"}, nil)
		return true
	}, h.c.cfg.ShutdownLinger)
}

// publishForJoining runs publish now and, if a client may still be joining, again after
// each of joinRepeats (those under before, when before > 0) for as long as publish says the
// notice still holds.
func (h *hub) publishForJoining(publish func() bool, before time.Duration) {
	if !publish() || time.Since(h.lastJoin) > joinWindow {
		return
	}
	for _, d := range joinRepeats {
		if before > 0 && d >= before {
			continue
		}
		h.c.loop.After(d, func() { publish() })
	}
}
