package controller

import (
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

type taskClient struct {
	*peer
}

func newTaskClient(t *testing.T, r *running) taskClient {
	return taskClient{newPeer(t, r.client.Key, "", r.client.Task)}
}

// submit sends an apply_request task with metadata and returns its msg_id.
func (c taskClient) submit(md map[string]any, content map[string]any) string {
	base := map[string]any{"after": []string{}, "follow": []string{}, "timeout": 0.0, "targets": []string{}, "retries": 0}
	for k, v := range md {
		base[k] = v
	}
	if content == nil {
		content = map[string]any{}
	}
	return c.send(nil, "apply_request", base, content).MsgID
}

// results collects n replies, keyed by the request msg_id.
func (c taskClient) results(n int, d time.Duration) map[string]reply {
	c.t.Helper()
	out := map[string]reply{}
	deadline := time.Now().Add(d)
	for len(out) < n {
		frames, ok := recvOn(c.sock, time.Until(deadline))
		if !ok {
			c.t.Fatalf("got %d of %d task replies", len(out), n)
		}
		rep := c.decode(frames)
		out[rep.Parent.MsgID] = rep
	}
	return out
}

func TestTasksRunAndDependenciesAreChecked(t *testing.T) {
	r := startController(t, Config{})
	e0, e1 := startFakeEngine(t, r), startFakeEngine(t, r)
	c := newTaskClient(t, r)
	testutil.Eventually(t, 5*time.Second, "two engines", func() bool { return len(r.c.hub.byUUIDSnapshot()) == 2 })

	a := c.submit(nil, nil)
	failed := c.submit(map[string]any{"targets": []string{e1.uuid}}, map[string]any{"fail": true})
	first := c.results(2, 5*time.Second)
	got := first
	if got[a].Content["status"] != "ok" || got[a].Metadata["engine"] == nil {
		t.Fatalf("task a: %+v", got[a])
	}
	if got[failed].Metadata["engine"] != e1.uuid {
		t.Errorf("targeted task ran on %v, want %s", got[failed].Metadata["engine"], e1.uuid)
	}

	follower := c.submit(map[string]any{"follow": []string{a}}, nil)
	invalid := c.submit(map[string]any{"after": []string{"no-such-task"}}, nil)
	impossible := c.submit(map[string]any{"after": []string{failed}}, nil)
	onFailure := c.submit(map[string]any{"after": map[string]any{"dependencies": []string{failed}, "success": false, "failure": true}}, nil)
	got = c.results(4, 5*time.Second)
	if got[follower].Metadata["engine"] != first[a].Metadata["engine"] {
		t.Errorf("follow ran on %v, not where %s ran (%v)", got[follower].Metadata["engine"], a, first[a].Metadata["engine"])
	}
	if errorName(got[invalid]) != "InvalidDependency: " {
		t.Errorf("invalid dependency: %q", errorName(got[invalid]))
	}
	if errorName(got[impossible]) != "ImpossibleDependency: " {
		t.Errorf("impossible dependency: %q", errorName(got[impossible]))
	}
	if got[onFailure].Content["status"] != "ok" {
		t.Errorf("failure-dependency task: %v", got[onFailure].Content)
	}
	_ = e0
}

func TestRetriesMoveATaskToAnotherEngine(t *testing.T) {
	r := startController(t, Config{})
	e0, e1 := startFakeEngine(t, r), startFakeEngine(t, r)
	c := newTaskClient(t, r)
	testutil.Eventually(t, 5*time.Second, "two engines", func() bool { return len(r.c.hub.byUUIDSnapshot()) == 2 })
	id := c.submit(map[string]any{"retries": 1}, map[string]any{"fail": true})
	got := c.results(1, 5*time.Second)[id]
	if got.Content["status"] != "error" {
		t.Fatalf("a task failing everywhere succeeded: %v", got.Content)
	}
	var tried int
	var completed string
	onLoop(r, func() {
		for _, s := range r.c.tasks.failed {
			if s.has(id) {
				tried++
			}
		}
		if rec, err := r.c.db.get(id); err == nil {
			completed = rec.Completed
		}
	})
	if completed == "" {
		t.Error("record not completed")
	}
	if tried != 1 {
		t.Errorf("final failure recorded on %d engines, want 1", tried)
	}
	if e0.served.Load() != 1 || e1.served.Load() != 1 {
		t.Errorf("engines ran the task %d and %d times, want once each", e0.served.Load(), e1.served.Load())
	}
}

func TestStrandedTaskFailsWithEngineError(t *testing.T) {
	r := startController(t, Config{StrandedGrace: 50 * time.Millisecond})
	e := startFakeEngine(t, r)
	c := newTaskClient(t, r)
	testutil.Eventually(t, 5*time.Second, "the engine", func() bool { return len(r.c.hub.byUUIDSnapshot()) == 1 })
	e.serve.Store(false)
	id := c.submit(nil, nil)
	testutil.Eventually(t, 5*time.Second, "the task to be placed on the engine", func() bool {
		placed := false
		onLoop(r, func() { placed = r.c.tasks.pending[e.uuid][id] != nil })
		return placed
	})
	e.kill()
	nanny := newPeer(t, r.client.Key, "", r.client.Registration)
	nanny.send(nil, "unregistration_request", nil, map[string]any{"id": e.id})
	got := c.results(1, 5*time.Second)[id]
	if name := errorName(got); len(name) < 12 || name[:12] != "EngineError:" {
		t.Fatalf("stranded task: %q", name)
	}
}

func TestWaitingTaskTimesOut(t *testing.T) {
	r := startController(t, Config{})
	e := startFakeEngine(t, r)
	c := newTaskClient(t, r)
	testutil.Eventually(t, 5*time.Second, "the engine", func() bool { return len(r.c.hub.byUUIDSnapshot()) == 1 })
	e.serve.Store(false)
	blocker := c.submit(nil, nil)
	waiter := c.submit(map[string]any{"after": []string{blocker}, "timeout": 0.2}, nil)
	got := c.results(1, 5*time.Second)
	if errorName(got[waiter]) != "TaskTimeout: " {
		t.Fatalf("waiting task: %+v", got)
	}
}
