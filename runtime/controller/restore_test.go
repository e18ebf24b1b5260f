package controller

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

// TestRestoreTakesBackTheEngines: a controller started with --restore after its predecessor
// died knows the predecessor's engines under their old ids, runs tasks on those whose hearts
// beat (never telling them they are unknown), drops those that stay silent, and goes on
// numbering after the old ids.
func TestRestoreTakesBackTheEngines(t *testing.T) {
	cfg := Config{ProfileDir: t.TempDir(), Ping: 50 * time.Millisecond, MaxMisses: 3, Reuse: true, Restore: true}
	first := startController(t, cfg)
	alive, silent := startFakeEngine(t, first), startFakeEngine(t, first)
	testutil.Eventually(t, 5*time.Second, "two engines", func() bool { return len(first.c.hub.byUUIDSnapshot()) == 2 })
	first.stop(t) // the engine table stays in log/engines.json, as after SIGKILL
	silent.echo.Store(false)

	second := startController(t, cfg)
	if second.engine.Registration != first.engine.Registration {
		t.Fatalf("restored controller listens on %d, not the reused port %d", second.engine.Registration, first.engine.Registration)
	}
	got := second.c.hub.byUUIDSnapshot()
	if len(got) != 2 || got[alive.uuid] != alive.id || got[silent.uuid] != silent.id {
		t.Fatalf("restored engines %v, want %s=%d and %s=%d", got, alive.uuid, alive.id, silent.uuid, silent.id)
	}
	testutil.Eventually(t, 10*time.Second, "the silent engine dropped", func() bool { return len(second.c.hub.byUUIDSnapshot()) == 1 })
	if _, ok := second.c.hub.byUUIDSnapshot()[alive.uuid]; !ok {
		t.Fatal("the beating engine was dropped")
	}
	c := newTaskClient(t, second)
	task := c.submit(nil, nil)
	if rep := c.results(1, 5*time.Second)[task]; rep.Content["status"] != "ok" || rep.Metadata["engine"] != alive.uuid {
		t.Errorf("task on the restored engine: %+v", rep)
	}
	if logs := second.logs.String(); strings.Contains(logs, "does not know") {
		t.Errorf("a restored engine was called unknown:\n%s", logs)
	}
	next := startFakeEngine(t, second)
	if next.id != 2 {
		t.Errorf("new engine got id %d after restoring ids 0 and 1", next.id)
	}
}

func TestRestoreRefusesAnUnreadableEngineTable(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "log", "engines.json")
	if err := os.MkdirAll(filepath.Dir(state), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state, []byte(`{"engines": {"x": "abc"}, "next_id": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(Config{ProfileDir: dir, Restore: true, Reuse: true})
	if err == nil || !strings.Contains(err.Error(), state) || !strings.Contains(err.Error(), "without --restore") {
		t.Fatalf("New with a bad engine table: %v", err)
	}
}
