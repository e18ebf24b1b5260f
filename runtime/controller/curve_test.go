//go:build libzmq

package controller

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"testing"

	"ipcluster/runtime/transport"
)

// python is the interpreter with pyzmq (and libsodium) and jupyter_client: Debian's.
const python = "/usr/bin/python3"

// pyCurveRequest sends a connection_request from a raw pyzmq CURVE client that trusts
// serverKey, and returns the reply's type ("" when none came within timeout seconds).
func pyCurveRequest(t *testing.T, port int, serverKey string, timeout float64) (msgType, status string) {
	t.Helper()
	out, err := exec.Command(python, "testdata/curve_client.py", fmt.Sprintf("tcp://127.0.0.1:%d", port), serverKey,
		fmt.Sprint(timeout)).CombinedOutput()
	if err != nil {
		t.Fatalf("curve_client.py: %v\n%s", err, out)
	}
	var reply struct {
		MsgType *string `json:"msg_type"`
		Status  string  `json:"status"`
	}
	if err := json.Unmarshal(out, &reply); err != nil {
		t.Fatalf("curve_client.py output %q: %v", out, err)
	}
	if reply.MsgType == nil {
		return "", ""
	}
	return *reply.MsgType, reply.Status
}

// TestCurveControllerServesOnlyItsKey: with enable_curve, both connection files carry the
// controller's public key as curve_serverkey (a Z85 string, as ipyparallel 9 writes it) and
// no HMAC key; a pyzmq CURVE client that trusts that key gets its connection_reply, one
// that trusts another key gets nothing, and the controller goes on serving the right ones.
func TestCurveControllerServesOnlyItsKey(t *testing.T) {
	if err := exec.Command(python, "-c", "import zmq, sys; sys.exit(not zmq.has('curve'))").Run(); err != nil {
		t.Skipf("%s has no pyzmq with CURVE (Debian python3-zmq): %v", python, err)
	}
	r := startController(t, Config{EnableCurve: true})
	ck, ek := r.client.CurveServerKey, r.engine.CurveServerKey
	if ck == nil || ek == nil || *ck != *ek || len(*ck) != 40 {
		t.Fatalf("curve_serverkey: client file %v, engine file %v; want the same 40-character Z85 key in both", ck, ek)
	}
	if *ck != r.c.cfg.CurvePublicKey {
		t.Fatalf("curve_serverkey %q is not the controller's public key %q", *ck, r.c.cfg.CurvePublicKey)
	}
	if r.client.Key != "" || r.engine.Key != "" {
		t.Errorf("HMAC keys %q, %q: want none with CURVE unless one is configured", r.client.Key, r.engine.Key)
	}

	if typ, status := pyCurveRequest(t, r.client.Registration, *ck, 10); typ != "connection_reply" || status != "ok" {
		t.Fatalf("right server key: reply %q status %q, want connection_reply ok", typ, status)
	}
	other, err := transport.NewCurveKeypair()
	if err != nil {
		t.Fatal(err)
	}
	if typ, _ := pyCurveRequest(t, r.client.Registration, other.Public, 1.5); typ != "" {
		t.Fatalf("wrong server key: got %q, want no reply", typ)
	}
	if typ, status := pyCurveRequest(t, r.client.Registration, *ck, 10); typ != "connection_reply" || status != "ok" {
		t.Fatalf("right server key after a wrong one: reply %q status %q, want connection_reply ok", typ, status)
	}
}
