//go:build !libzmq

package transport

// Tests of the pure-Go backend's own behaviour: libzmq drops a refused connection without
// telling us, so only this backend logs it.

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

// The default build says it is the pure-Go transport.
func TestBackendIsPureGo(t *testing.T) {
	if Backend() != "pure-Go ZMTP" {
		t.Fatalf("Backend() = %q", Backend())
	}
}

// A refused connection is reported through the context's logger, naming the peer.
func TestRefusedConnectionIsLogged(t *testing.T) {
	var logged testutil.LogBuffer
	zctx, _ := NewContext()
	zctx.SetLogger(slog.New(slog.NewTextHandler(&logged, nil)))
	router, _ := zctx.NewSocket(Router)
	defer func() { router.Close(); zctx.Term() }()
	port, _ := router.Bind("tcp", "127.0.0.1", 0)
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	g := append([]byte(nil), greeting...)
	copy(g[12:32], "CURVE\x00")
	conn.Write(g)
	io.ReadAll(conn) // until we are hung up on
	conn.Close()
	testutil.Eventually(t, 5*time.Second, "a log of the refused CURVE greeting", func() bool {
		return strings.Contains(logged.String(), "only NULL is supported")
	})
	if !strings.Contains(logged.String(), "peer=127.0.0.1:") {
		t.Errorf("the peer is not named: %q", logged.String())
	}
}

// At the receive high-water mark the socket stops reading the connection (TCP pushes back
// on the sender) instead of queueing without bound, and nothing is lost: once the owner
// reads, every message arrives, in order.
func TestRecvHWMStopsReadingAndLosesNothing(t *testing.T) {
	router, dealer, _ := connectedPair(t)
	router.SetRecvHWM(10)
	const n = 5000
	for i := range n {
		if err := dealer.Send([][]byte{[]byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	inbox := func() int {
		router.mu.Lock()
		defer router.mu.Unlock()
		return len(router.inbox) - router.head
	}
	testutil.Within(5*time.Second, func() bool { return inbox() >= 10 })
	// Absence check: a reader that did not stop at the mark would add more in this window.
	time.Sleep(50 * time.Millisecond)
	if got := inbox(); got != 10 {
		t.Fatalf("%d messages queued unread, want the high-water mark, 10", got)
	}
	for i := range n {
		if got := recvWithin(t, router, 5*time.Second); string(got[1]) != fmt.Sprint(i) {
			t.Fatalf("message %d: got %q", i, got[1])
		}
	}
}
