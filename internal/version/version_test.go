package version

import (
	"testing"
)

func TestLineNamesVersionAndTransport(t *testing.T) {
	if String() == "" {
		t.Fatal("empty version")
	}
	version = "1.2.3"
	defer func() { version = "" }()
	if got, want := Line("ipengine", "pure-Go ZMTP"), "ipengine 1.2.3 (ipcluster in Go), transport: pure-Go ZMTP"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
