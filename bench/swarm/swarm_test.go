package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"ipcluster/internal/fdlimit"
	"ipcluster/profiles"
	"ipcluster/runtime/client"
	"ipcluster/runtime/client/clienttest"
)

// 1000 swarm engines connect to our controller at once; every one registers, answers a
// broadcast execute with its own output, and unregisters when the swarm stops. Not a
// timing test: the deadlines only bound a hang.
func TestThousandSwarmEnginesRegisterAndAnswerABroadcast(t *testing.T) {
	const n = 1000
	limit, err := fdlimit.Raise()
	if err != nil {
		t.Fatal(err)
	}
	if err := limit.Check(n, "the test"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := clienttest.New(t.TempDir(), "swarm")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cl.Stop(); err != nil {
			t.Errorf("stop the controller: %v", err)
		}
		if t.Failed() {
			t.Log(cl.Logs())
		}
	}()
	if _, err := cl.StartController(ctx, clienttest.Go); err != nil {
		t.Fatal(err)
	}
	var info profiles.EngineInfo
	if err := profiles.ReadJSON(profiles.ConnectionFile(cl.ProfileDir, cl.ClusterID, "engine"), &info); err != nil {
		t.Fatal(err)
	}
	c, err := client.Connect(ctx, client.Options{ConnectionFile: cl.ClientFile()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	s, err := startSwarm(info, n, 2*time.Minute, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			s.stop()
		}
	}()
	ids, err := c.WaitForEngines(ctx, n)
	if err != nil {
		lost, why := s.failures()
		t.Fatalf("%v; %d engines stopped by themselves (first: %v)", err, lost, why)
	}
	if len(ids) != n {
		t.Fatalf("the controller lists %d engines, want %d", len(ids), n)
	}

	futs, err := c.BroadcastAsync(ctx, nil, "echo hello from the swarm")
	if err != nil {
		t.Fatal(err)
	}
	results, err := client.WaitAll(ctx, futs)
	if err != nil {
		t.Fatalf("broadcast to %d engines: %v", n, err)
	}
	answered := map[int]bool{}
	for _, r := range results {
		if r.Status != "ok" || r.Stdout != "hello from the swarm\n" {
			t.Fatalf("engine %d answered %+v", r.EngineID, r)
		}
		answered[r.EngineID] = true
	}
	if len(answered) != n {
		t.Errorf("%d distinct engines answered the broadcast, want %d", len(answered), n)
	}
	if lost, why := s.failures(); lost > 0 {
		t.Errorf("%d engines stopped by themselves (first: %v)", lost, why)
	}

	s.stop()
	stopped = true
	err = clienttest.WaitUntil(ctx, 50*time.Millisecond, "every swarm engine unregistered", func() (bool, error) {
		return len(c.IDs()) == 0, nil
	})
	if err != nil {
		t.Errorf("%v: %d engines still listed", err, len(c.IDs()))
	}
}
