//go:build libzmq

package transport

import (
	"fmt"
	"testing"

	zmq "github.com/pebbe/zmq4"
)

// Specific to the libzmq backend: it names libzmq and its version, so that --version and the
// start-up logs of the programs say which transport they run on.
func TestBackendNamesLibzmqAndItsVersion(t *testing.T) {
	major, minor, patch := zmq.Version()
	if major < 4 {
		t.Fatalf("libzmq %d.%d.%d: 4.x is needed", major, minor, patch)
	}
	if want := fmt.Sprintf("libzmq %d.%d.%d via pebbe/zmq4", major, minor, patch); Backend() != want {
		t.Fatalf("Backend() = %q, want %q", Backend(), want)
	}
}
