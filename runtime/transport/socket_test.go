package transport

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
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
	deadline := time.Now().Add(5 * time.Second)
	for { // the old listener's port is free again once its goroutines are done
		if _, err := again.Bind("tcp", "127.0.0.1", port); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		dealer.Send([][]byte{[]byte("two")})
		if msg, ok, _ := again.TryRecv(); ok {
			if string(msg[1]) != "two" {
				t.Fatalf("got %q", msg)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no message through the new peer")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPubSendsOnlySubscribedTopics(t *testing.T) {
	pub := newTestSocket(t, Pub)
	port, _ := pub.Bind("tcp", "127.0.0.1", 0)
	sub := newTestSocket(t, Sub)
	sub.Subscribe("engine.1.")
	sub.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", port))
	deadline := time.Now().Add(5 * time.Second)
	for {
		pub.Send([][]byte{[]byte("engine.2.stream"), []byte("no")})
		pub.Send([][]byte{[]byte("engine.1.stream"), []byte("yes")})
		if msg, ok, _ := sub.TryRecv(); ok {
			if string(msg[1]) != "yes" {
				t.Fatalf("got %q", msg)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nothing received")
		}
		time.Sleep(time.Millisecond)
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
