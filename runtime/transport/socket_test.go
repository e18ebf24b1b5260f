package transport

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

func connectedPair(t *testing.T) (router, dealer *Socket, port int) {
	t.Helper()
	router = newTestSocket(t, Router)
	port, err := router.Bind("tcp", "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	dealer = newTestSocket(t, Dealer)
	dealer.SetIdentity([]byte("d"))
	if err := dealer.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", port)); err != nil {
		t.Fatal(err)
	}
	return router, dealer, port
}

// A peer that is not ZMTP, or lies about a frame's size, loses its connection; the socket
// goes on serving the others and allocates nothing for bytes never sent.
func TestBadPeersAreDroppedOthersServed(t *testing.T) {
	router, dealer, port := connectedPair(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	junk, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer junk.Close()
	junk.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + string(make([]byte, 64))))
	junk.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(junk); err != nil { // our greeting, then EOF: we hung up
		t.Fatalf("junk peer not disconnected: %v", err)
	}

	liar, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer liar.Close()
	hello := zmtpHello("DEALER", "liar")
	hello = append(hello, 0x02)                         // a long frame
	hello = binary.BigEndian.AppendUint64(hello, 1<<40) // of a terabyte announced, 3 bytes sent
	liar.Write(append(hello, "abc"...))
	liar.Close()

	dealer.Send([][]byte{[]byte("still")})
	msg := recvWithin(t, router, 5*time.Second)
	if string(msg[0]) != "d" || string(msg[1]) != "still" {
		t.Fatalf("got %q", msg)
	}
}

// Close keeps writing what was queued (within the linger), as libzmq does.
func TestCloseDeliversQueuedMessages(t *testing.T) {
	router, dealer, _ := connectedPair(t)
	dealer.Send([][]byte{[]byte("first")})
	recvWithin(t, router, 5*time.Second) // connected
	const n = 2000
	for i := range n {
		dealer.Send([][]byte{[]byte(fmt.Sprint(i)), make([]byte, 1000)})
	}
	dealer.Close()
	for i := range n {
		msg := recvWithin(t, router, 5*time.Second)
		if string(msg[1]) != fmt.Sprint(i) {
			t.Fatalf("message %d: got %q", i, msg[1])
		}
	}
}

// A connecting socket redials after its peer goes away. (A message sent before it noticed
// the disconnection is lost, as with libzmq, so the test sends until one arrives.)
func TestDealerReconnectsToRestartedPeer(t *testing.T) {
	router, dealer, port := connectedPair(t)
	dealer.Send([][]byte{[]byte("one")})
	recvWithin(t, router, 5*time.Second)
	router.SetLinger(0)
	router.Close()

	again := newTestSocket(t, Router)
	var err error
	if !testutil.Within(5*time.Second, func() bool { // the old listener's port is free again once its goroutines are done
		_, err = again.Bind("tcp", "127.0.0.1", port)
		return err == nil
	}) {
		t.Fatal(err)
	}
	var msg [][]byte
	testutil.Eventually(t, 10*time.Second, "a message through the new peer", func() bool {
		dealer.Send([][]byte{[]byte("two")}) // until the dealer has reconnected
		var ok bool
		msg, ok, _ = again.TryRecv()
		return ok
	})
	if string(msg[1]) != "two" {
		t.Fatalf("got %q", msg)
	}
}

func TestPubSendsOnlySubscribedTopics(t *testing.T) {
	pub := newTestSocket(t, Pub)
	port, _ := pub.Bind("tcp", "127.0.0.1", 0)
	sub := newTestSocket(t, Sub)
	sub.Subscribe("engine.1.")
	sub.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", port))
	var msg [][]byte
	testutil.Eventually(t, 5*time.Second, "a message on the subscribed topic", func() bool {
		pub.Send([][]byte{[]byte("engine.2.stream"), []byte("no")}) // until the subscription has arrived
		pub.Send([][]byte{[]byte("engine.1.stream"), []byte("yes")})
		var ok bool
		msg, ok, _ = sub.TryRecv()
		return ok
	})
	if string(msg[1]) != "yes" {
		t.Fatalf("got %q", msg)
	}
	for range 100 { // what follows is filtered too
		pub.Send([][]byte{[]byte("engine.2.stream"), []byte("no")})
	}
	pub.Send([][]byte{[]byte("engine.1.stream"), []byte("last")})
	for {
		msg := recvWithin(t, sub, 5*time.Second)
		if string(msg[1]) == "no" {
			t.Fatalf("unsubscribed topic delivered: %q", msg)
		}
		if string(msg[1]) == "last" {
			return
		}
	}
}

// newContextAndLoop is a context and a loop on it, as every program that serves sockets starts.
func newContextAndLoop(t *testing.T) (*Context, *Loop) {
	t.Helper()
	zctx, err := NewContext()
	if err != nil {
		t.Fatal(err)
	}
	loop, err := NewLoop(zctx)
	if err != nil {
		t.Fatal(err)
	}
	return zctx, loop
}
