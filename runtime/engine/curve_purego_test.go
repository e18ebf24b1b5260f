//go:build !libzmq

package engine

import (
	"strings"
	"testing"
)

// A pure-Go engine cannot be a CURVE client: a connection file with curve_serverkey is
// refused with an error naming the file and the build that can.
func TestPureGoEngineRefusesCurveFile(t *testing.T) {
	info := sampleInfo()
	key := strings.Repeat("x", 40)
	info.CurveServerKey = &key
	err := checkInfo(info, "ipcontroller-engine.json", true)
	if err == nil || !strings.Contains(err.Error(), "ipcontroller-engine.json") || !strings.Contains(err.Error(), "make build-libzmq") {
		t.Fatalf("err = %v, want one naming the file and make build-libzmq", err)
	}
}
