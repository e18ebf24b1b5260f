package version

import (
	"testing"

	"ipcluster/runtime/transport"
)

func TestLineNamesVersionAndTransport(t *testing.T) {
	if String() == "" {
		t.Fatal("empty version")
	}
	version = "1.2.3"
	defer func() { version = "" }()
	if got, want := Line("ipengine"), "ipengine 1.2.3 (ipcluster in Go), transport: "+transport.Backend(); got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
