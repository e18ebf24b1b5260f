package controller

import (
	"strings"
	"testing"
	"time"

	"ipcluster/internal/testutil"
	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

// waitNotification returns the next notification of msgType on sub.
func waitNotification(t *testing.T, p *peer, sub *transport.Socket, msgType string, d time.Duration) reply {
	t.Helper()
	return p.Next(sub, d, msgType, func(m reply) bool { return m.Header.MsgType == msgType })
}

func TestRegistrationCompletesOnFirstHeartbeat(t *testing.T) {
	// A 3 s period, as by default: registration must not wait for it.
	r := startController(t, Config{Ping: 3 * time.Second})
	p := newPeer(t, r.client.Key, "", r.client.Registration)
	start := time.Now()
	e := startFakeEngine(t, r)
	testutil.Eventually(t, 2*time.Second, "the engine to be listed", func() bool {
		rep := p.request("connection_request", map[string]any{})
		engines, _ := rep.Content["engines"].(map[string]any)
		return engines["0"] == e.uuid
	})
	if took := time.Since(start); took > time.Second {
		t.Errorf("registration took %v with a 3 s heartbeat period", took)
	}
	second := startFakeEngine(t, r)
	if second.id != 1 {
		t.Errorf("second engine got id %d, want 1", second.id)
	}
}

func TestDuplicateUUIDIsRefused(t *testing.T) {
	r := startController(t, Config{})
	e := startFakeEngine(t, r)
	p := newPeer(t, r.client.Key, e.uuid+"-other-socket", r.client.Registration)
	rep := p.request("registration_request", map[string]any{"uuid": e.uuid})
	if got := errorName(rep); got != `KeyError: "uuid '`+e.uuid+`' in use"` {
		t.Fatalf("duplicate registration: %q", got)
	}
}

func TestHeartbeatLossUnregistersAndIDsAreNotReused(t *testing.T) {
	r := startController(t, Config{Ping: 50 * time.Millisecond})
	p := newPeer(t, r.client.Key, "", r.client.Registration)
	notes := p.subscribe(r.client.Notification)
	e := startFakeEngine(t, r)
	waitNotification(t, p, notes, "registration_notification", 5*time.Second)
	e.echo.Store(false)
	start := time.Now()
	n := waitNotification(t, p, notes, "unregistration_notification", 5*time.Second)
	if n.Content["uuid"] != e.uuid {
		t.Fatalf("unregistered %v, want %s", n.Content, e.uuid)
	}
	// 10 misses allowed, the 11th drops it: about 11 periods.
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Errorf("engine dropped after %v, before 10 missed beats of 50 ms", took)
	}
	next := startFakeEngine(t, r)
	if next.id != 1 {
		t.Errorf("new engine got id %d; ids must not be reused", next.id)
	}
}

func TestUnregistrationRequestUsesContentID(t *testing.T) {
	r := startController(t, Config{})
	p := newPeer(t, r.client.Key, "", r.client.Registration)
	notes := p.subscribe(r.client.Notification)
	waitForSubscription(t, p, r, notes)
	e := startFakeEngine(t, r)
	waitNotification(t, p, notes, "registration_notification", 5*time.Second)
	nanny := newPeer(t, r.client.Key, "nanny-zid", r.client.Registration)
	nanny.send(nil, "unregistration_request", nil, map[string]any{"id": e.id})
	n := waitNotification(t, p, notes, "unregistration_notification", 5*time.Second)
	if int(n.Content["id"].(float64)) != e.id {
		t.Fatalf("unregistered %v", n.Content)
	}
}

// TestUnknownHeartIsLoggedOnceAndTold: a dropped engine whose heart beats again is logged
// once and told on hb_ping that it is unknown; one that ignores the notices (as ipyparallel's
// engines do, echoing them) gets only a few, and echoed notices cause no more.
func TestUnknownHeartIsLoggedOnceAndTold(t *testing.T) {
	r := startController(t, Config{Ping: 20 * time.Millisecond, MaxMisses: 2})
	p := newPeer(t, r.client.Key, "", r.client.Registration)
	notes := p.subscribe(r.client.Notification)
	pings := p.subscribe(r.engine.HBPing)
	e := startFakeEngine(t, r)
	waitNotification(t, p, notes, "registration_notification", 5*time.Second)
	e.echo.Store(false)
	waitNotification(t, p, notes, "unregistration_notification", 5*time.Second)
	e.echo.Store(true)
	notices, beats := 0, 0
	for beats < 30 { // 30 periods: long enough to see notices stop
		frames, ok := recvOn(pings, 5*time.Second)
		if !ok {
			t.Fatal("pings stopped")
		}
		if uuid, isNotice := wire.UnknownHeart(frames[0]); isNotice {
			if uuid != e.uuid {
				t.Fatalf("notice for %s, want %s", uuid, e.uuid)
			}
			notices++
		} else {
			beats++
		}
	}
	if notices < 1 || notices > maxUnknownNotices {
		t.Errorf("%d notices to the unknown heart, want 1 to %d", notices, maxUnknownNotices)
	}
	if n := strings.Count(r.logs.String(), "does not know"); n != 1 {
		t.Errorf("unknown heart logged %d times, want once", n)
	}
}

// TestLeavingEngineIsNotCalledUnknown: an engine that unregistered itself may echo a ping
// or two while it closes; that is neither logged nor answered with a notice.
func TestLeavingEngineIsNotCalledUnknown(t *testing.T) {
	r := startController(t, Config{Ping: 20 * time.Millisecond})
	p := newPeer(t, r.client.Key, "", r.client.Registration)
	notes := p.subscribe(r.client.Notification)
	pings := p.subscribe(r.engine.HBPing)
	waitForSubscription(t, p, r, notes)
	e := startFakeEngine(t, r)
	waitNotification(t, p, notes, "registration_notification", 5*time.Second)
	p.send(nil, "unregistration_request", nil, map[string]any{"id": e.id})
	waitNotification(t, p, notes, "unregistration_notification", 5*time.Second)
	for beats := 0; beats < 10; { // the engine goes on echoing for 10 periods
		frames, ok := recvOn(pings, 5*time.Second)
		if !ok {
			t.Fatal("pings stopped")
		}
		if _, isNotice := wire.UnknownHeart(frames[0]); isNotice {
			t.Fatal("a notice was sent to an engine that unregistered itself")
		}
		beats++
	}
	if strings.Contains(r.logs.String(), "does not know") {
		t.Error("an engine that unregistered itself was logged as unknown")
	}
}
