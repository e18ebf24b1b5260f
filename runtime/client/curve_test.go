//go:build libzmq

package client_test

import (
	"testing"

	"ipcluster/profiles"
	"ipcluster/runtime/client/clienttest"
)

// TestCurveGoEnginesAndClient: a controller with enable_curve (the libzmq binaries of
// IPCLUSTER_BIN), Go engines and the Go client, all CURVE clients because the connection
// files carry curve_serverkey, run a command together.
func TestCurveGoEnginesAndClient(t *testing.T) {
	if _, err := clienttest.Executable("ipengine"); err != nil {
		t.Skip(err)
	}
	ctx := testContext(t)
	cl := newCluster(t)
	if _, err := cl.StartController(ctx, clienttest.Go, "--IPController.enable_curve=True", "--ping=200"); err != nil {
		t.Fatal(err)
	}
	var info profiles.ClientInfo
	if err := profiles.ReadJSON(cl.ClientFile(), &info); err != nil {
		t.Fatal(err)
	}
	if info.CurveServerKey == nil || len(*info.CurveServerKey) != 40 {
		t.Fatalf("client file curve_serverkey = %v, want a 40-character Z85 key", info.CurveServerKey)
	}
	if info.Key != "" {
		t.Errorf("client file key = %q, want '' (CURVE authenticates; as ipyparallel 9, no HMAC key unless one is set)", info.Key)
	}
	if _, err := cl.StartEngines(clienttest.Go, 2); err != nil {
		t.Fatal(err)
	}
	c := connect(t, ctx, cl)
	ids := waitForEngines(t, ctx, c, cl, 2)
	results, err := c.Execute(ctx, nil, "echo encrypted")
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 {
		t.Fatalf("%d results, want 2", len(results))
	}
	for i, r := range results {
		if r.Stdout != "encrypted\n" || r.ExitCode != 0 || r.EngineID != ids[i] {
			t.Errorf("engine %d: %+v", ids[i], r)
		}
	}
}
