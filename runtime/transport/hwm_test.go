package transport

// High-water marks, on both backends: a peer that does not read makes its sender drop (PUB,
// ROUTER) or refuse (mandatory ROUTER, DEALER) once the mark is reached; Send never blocks.

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

const (
	floodCount = 1000
	floodSize  = 64 << 10 // floodCount messages of this size are more than the kernel buffers
	testHWM    = 10
)

// drainCounting reads the flood, asking for a marker (with sendMarker) whenever nothing is
// waiting, and returns how many flood messages arrived before the marker.
func drainCounting(t *testing.T, s *Socket, sendMarker func()) int {
	t.Helper()
	got := 0
	if !testutil.Within(20*time.Second, func() bool {
		for { // everything waiting, then a marker if it was not there
			msg, ok, _ := s.TryRecv()
			if !ok {
				sendMarker()
				return false
			}
			if string(msg[len(msg)-1]) == "marker" {
				return true
			}
			got++
		}
	}) {
		t.Fatalf("no marker after %d flood messages", got)
	}
	return got
}

// A PUB drops messages for a subscriber that does not read once the subscriber's queue holds
// the send high-water mark; publishing never blocks.
func TestPubDropsForSubscriberAtSendHWM(t *testing.T) {
	pub := newTestSocket(t, Pub)
	if err := pub.SetSendHWM(testHWM); err != nil {
		t.Fatal(err)
	}
	port, _ := pub.Bind("tcp", "127.0.0.1", 0)
	sub := newTestSocket(t, Sub)
	sub.SetRecvHWM(testHWM)
	sub.Subscribe("")
	sub.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", port))
	marker := func() { pub.Send([][]byte{[]byte("t"), []byte("marker")}) }
	drainCounting(t, sub, marker) // subscribed

	body := make([]byte, floodSize)
	start := time.Now()
	for range floodCount {
		if err := pub.Send([][]byte{[]byte("t"), body}); err != nil {
			t.Fatalf("PUB send: %v", err)
		}
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("publishing to a stalled subscriber took %s", took)
	}
	got := drainCounting(t, sub, marker)
	if got == 0 || got >= floodCount {
		t.Fatalf("the stalled subscriber got %d of %d messages; want some, and the rest dropped", got, floodCount)
	}
	t.Logf("stalled subscriber received %d of %d", got, floodCount)
}

// A ROUTER drops messages to a peer over its send high-water mark; a mandatory ROUTER
// returns ErrFull instead (libzmq's EAGAIN), and sends again once the peer reads.
func TestRouterDropsOrRefusesAtSendHWM(t *testing.T) {
	for _, mandatory := range []bool{false, true} {
		t.Run(fmt.Sprintf("mandatory=%v", mandatory), func(t *testing.T) {
			router := newTestSocket(t, Router)
			router.SetSendHWM(testHWM)
			if mandatory {
				router.SetMandatory()
			}
			port, _ := router.Bind("tcp", "127.0.0.1", 0)
			dealer := newTestSocket(t, Dealer)
			dealer.SetRecvHWM(testHWM)
			dealer.SetIdentity([]byte("d"))
			dealer.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", port))
			dealer.Send([][]byte{[]byte("hello")})
			recvWithin(t, router, 5*time.Second)
			marker := func() { router.Send([][]byte{[]byte("d"), []byte("marker")}) }

			body := make([]byte, floodSize)
			refused := 0
			for range floodCount {
				err := router.Send([][]byte{[]byte("d"), body})
				switch {
				case errors.Is(err, ErrFull) && mandatory:
					refused++
				case err != nil:
					t.Fatalf("ROUTER send: %v", err)
				}
			}
			got := drainCounting(t, dealer, marker)
			if got == 0 || got >= floodCount {
				t.Fatalf("the stalled peer got %d of %d messages; want some, and the rest dropped", got, floodCount)
			}
			if mandatory && got+refused != floodCount {
				t.Errorf("mandatory: %d delivered + %d refused, want all %d accounted for", got, refused, floodCount)
			}
			if !mandatory && refused != 0 {
				t.Errorf("a ROUTER without mandatory routing refused %d sends", refused)
			}
		})
	}
}

// A DEALER with no connected peer keeps messages up to its send high-water mark, then
// refuses with ErrFull rather than blocking.
func TestDealerWithoutPeerRefusesAtSendHWM(t *testing.T) {
	closed := newTestSocket(t, Router)
	port, _ := closed.Bind("tcp", "127.0.0.1", 0)
	closed.Close() // nobody listens there now
	dealer := newTestSocket(t, Dealer)
	if err := dealer.SetSendHWM(testHWM); err != nil {
		t.Fatal(err)
	}
	dealer.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", port))
	for i := range testHWM {
		if err := dealer.Send([][]byte{[]byte("queued")}); err != nil {
			t.Fatalf("send %d of %d: %v", i+1, testHWM, err)
		}
	}
	if err := dealer.Send([][]byte{[]byte("one more")}); !errors.Is(err, ErrFull) {
		t.Fatalf("send past the high-water mark: got %v, want ErrFull", err)
	}
	if err := dealer.SetSendHWM(-1); err == nil {
		t.Error("SetSendHWM(-1) accepted")
	}
	if err := dealer.SetRecvHWM(-1); err == nil {
		t.Error("SetRecvHWM(-1) accepted")
	}
}
