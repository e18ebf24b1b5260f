//go:build !libzmq

package client_test

import (
	"context"
	"strings"
	"testing"

	"ipcluster/profiles"
	"ipcluster/runtime/client"
)

// A pure-Go client cannot be a CURVE client: connection info with curve_serverkey is
// refused before anything is sent, with an error naming the build that can.
func TestPureGoClientRefusesCurveFile(t *testing.T) {
	key := strings.Repeat("x", 40)
	info := profiles.ClientInfo{Interface: "tcp://127.0.0.1", Registration: 1, Key: "", CurveServerKey: &key,
		Pack: "json", Unpack: "json", SignatureScheme: "hmac-sha256"}
	_, err := client.Connect(context.Background(), client.Options{Info: &info})
	if err == nil || !strings.Contains(err.Error(), "make build-libzmq") {
		t.Fatalf("err = %v, want one naming make build-libzmq", err)
	}
}
