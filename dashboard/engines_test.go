package dashboard

import (
	"testing"
	"time"
)

func states(es []Engine) map[int]string {
	m := map[int]string{}
	for _, e := range es {
		m[e.ID] = e.State
	}
	return m
}

func TestEngineStates(t *testing.T) {
	t0 := time.Now()
	tr := newTracker(6 * time.Second)
	tr.update([]engineReport{{ID: 0}, {ID: 1, Running: 1, Queued: 2}, {ID: 2, State: Draining}, {ID: 3}, {ID: 4}}, t0)
	got := states(tr.engines(t0))
	want := map[int]string{0: Idle, 1: Busy, 2: Draining, 3: Idle, 4: Idle}
	for id, s := range want {
		if got[id] != s {
			t.Errorf("engine %d: %s, want %s (all: %v)", id, got[id], s, got)
		}
	}
	// 3 is stopped by the user and leaves; 4 leaves on its own; 0 stays registered but
	// stops answering; 1 and 2 answer.
	tr.markStopped([]int{3}, "stopped from the dashboard")
	t1 := t0.Add(7 * time.Second)
	tr.update([]engineReport{{ID: 0}, {ID: 1}, {ID: 2}}, t1)
	tr.probeDone(1, &probeAnswer{UUID: "u1", Kind: "python"}, t1)
	tr.probeDone(2, &probeAnswer{}, t1)
	es := tr.engines(t1)
	got = states(es)
	want = map[int]string{0: Lost, 1: Idle, 2: Idle, 3: Stopped, 4: Lost}
	for id, s := range want {
		if got[id] != s {
			t.Errorf("after changes engine %d: %s, want %s (all: %v)", id, got[id], s, got)
		}
	}
	if es[1].Kind == nil || *es[1].Kind != "python" || es[1].UUID != "u1" {
		t.Errorf("probe answer not kept: %+v", es[1])
	}
	if es[0].HeartbeatAge == nil || *es[0].HeartbeatAge < 6.9 || es[4].HeartbeatAge != nil {
		t.Errorf("heartbeat ages: registered silent %v, gone %v", es[0].HeartbeatAge, es[4].HeartbeatAge)
	}
	// A replacement registers with 4's id: a fresh, live engine.
	tr.update([]engineReport{{ID: 0}, {ID: 1}, {ID: 2}, {ID: 4}}, t1.Add(time.Second))
	if s := states(tr.engines(t1.Add(time.Second)))[4]; s != Idle {
		t.Errorf("replacement with a lost engine's id: %s, want idle", s)
	}
}

func TestControllerHeartbeatWins(t *testing.T) {
	t0 := time.Now()
	tr := newTracker(6 * time.Second)
	tr.update([]engineReport{{ID: 0, LastHeartbeat: t0.Add(-10 * time.Second)}, {ID: 1, LastHeartbeat: t0}}, t0)
	if got := states(tr.engines(t0)); got[0] != Lost || got[1] != Idle {
		t.Errorf("states from the controller's heartbeats: %v", got)
	}
}

func TestGoneEnginesAreBounded(t *testing.T) {
	t0 := time.Now()
	tr := newTracker(time.Second)
	for i := range maxGone + 50 {
		tr.update([]engineReport{{ID: i}}, t0.Add(time.Duration(i)*time.Millisecond))
	}
	tr.update(nil, t0.Add(time.Hour))
	if n := len(tr.engines(t0.Add(time.Hour))); n != maxGone {
		t.Fatalf("%d engines kept, want %d", n, maxGone)
	}
}

func TestDueProbesSkipOutstanding(t *testing.T) {
	t0 := time.Now()
	tr := newTracker(6 * time.Second)
	tr.update([]engineReport{{ID: 0}, {ID: 1}}, t0)
	if ids := tr.dueProbes(t0, 2*time.Second); len(ids) != 2 {
		t.Fatalf("first round %v", ids)
	}
	tr.probeDone(1, &probeAnswer{}, t0)
	if ids := tr.dueProbes(t0.Add(3*time.Second), 2*time.Second); len(ids) != 1 || ids[0] != 1 {
		t.Fatalf("a probe still outstanding was sent again: %v", ids)
	}
}
