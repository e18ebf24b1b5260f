//go:build !libzmq

// The pure-Go backend's own accept, handshake and size limits and their logging, checked
// through its internals; libzmq has these inside (ZMQ_HANDSHAKE_IVL, ZMQ_MAXMSGSIZE).

package transport

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

// Hundreds of peers refused at once make a handful of log lines and a count, not a line
// each; no refusal goes uncounted.
func TestRefusedConnectionsAreLoggedWithinARateLimit(t *testing.T) {
	var logged testutil.LogBuffer
	zctx, _ := NewContext()
	zctx.SetLogger(slog.New(slog.NewTextHandler(&logged, nil)))
	zctx.refusals.interval = time.Second // 10 s in use; short here so the count comes soon
	router, _ := zctx.NewSocket(Router)
	defer func() { router.Close(); zctx.Term() }()
	port, err := router.Bind("tcp", "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	const peers = 300
	junk := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + strings.Repeat("x", 64))
	for range peers {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		conn.Write(junk)
		conn.Close()
	}
	countRe := regexp.MustCompile(`count=(\d+)`)
	var single, summaries, counted int
	testutil.Within(15*time.Second, func() bool {
		single, summaries, counted = 0, 0, 0
		for _, line := range strings.Split(logged.String(), "\n") {
			if !strings.Contains(line, "ZeroMQ connection refused") {
				continue
			}
			if m := countRe.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[1])
				summaries++
				counted += n
			} else {
				single++
			}
		}
		return single+counted >= peers
	})
	if single+counted != peers {
		t.Fatalf("%d refusals logged one by one and %d counted, want %d in all:\n%s", single, counted, peers, logged.String())
	}
	// at most the first 5 of each interval one by one (intervals: those that ended in a count)
	if single > 5*summaries || summaries > 15 {
		t.Errorf("%d lines for %d refusals (%d summaries): not rate-limited", single+summaries, peers, summaries)
	}
}

// Peers that connect and never complete the handshake are closed after the handshake
// timeout, however many they are; a peer that completed it is not.
func TestStalledHandshakesAreClosed(t *testing.T) {
	router, dealer, port := connectedPair(t)
	router.ctx.SetHandshakeTimeout(300 * time.Millisecond)
	dealer.Send([][]byte{[]byte("first")})
	recvWithin(t, router, 5*time.Second) // the dealer's handshake is done

	const stalled = 100
	var wg sync.WaitGroup
	errs := make(chan error, stalled)
	start := time.Now()
	for i := range stalled {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if i%2 == 1 {
			conn.Write(greeting[:20]) // half a greeting, then silence
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadAll(conn); err != nil { // our greeting, then EOF: closed by us
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a stalled peer was not hung up on: %v", err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("stalled peers closed after %s, before the 300 ms timeout", took)
	}
	dealer.Send([][]byte{[]byte("still here")})
	if got := recvWithin(t, router, 5*time.Second); string(got[1]) != "still here" {
		t.Fatalf("got %q", got)
	}
}

// A frame over the socket's maximum message size closes that peer's connection only, and
// the log names the peer; a frame of exactly the maximum passes.
func TestOversizedFrameClosesOnlyItsConnection(t *testing.T) {
	var logged testutil.LogBuffer
	zctx, _ := NewContext()
	zctx.SetLogger(slog.New(slog.NewTextHandler(&logged, nil)))
	router, _ := zctx.NewSocket(Router)
	if err := router.SetMaxMsgSize(1000); err != nil {
		t.Fatal(err)
	}
	port, err := router.Bind("tcp", "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	dealers := map[string]*Socket{}
	for _, id := range []string{"big", "other"} {
		d, _ := zctx.NewSocket(Dealer)
		d.SetIdentity([]byte(id))
		if err := d.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", port)); err != nil {
			t.Fatal(err)
		}
		dealers[id] = d
	}
	defer func() {
		for _, d := range dealers {
			d.Close()
		}
		router.Close()
		zctx.Term()
	}()

	dealers["big"].Send([][]byte{make([]byte, 1000)})
	if got := recvWithin(t, router, 5*time.Second); string(got[0]) != "big" || len(got[1]) != 1000 {
		t.Fatalf("frame of the maximum size: got %q with %d bytes", got[0], len(got[len(got)-1]))
	}
	dealers["big"].Send([][]byte{make([]byte, 1001)})
	testutil.Eventually(t, 5*time.Second, "a log of the oversized frame", func() bool {
		return strings.Contains(logged.String(), "exceeds the maximum message size")
	})
	if !strings.Contains(logged.String(), "peer=127.0.0.1:") {
		t.Errorf("the peer is not named: %q", logged.String())
	}
	dealers["other"].Send([][]byte{[]byte("still served")})
	got := recvWithin(t, router, 5*time.Second)
	if string(got[0]) != "other" || string(got[1]) != "still served" {
		t.Fatalf("got %q; the oversized frame must not be delivered", got)
	}
	if err := router.SetMaxMsgSize(-2); err == nil {
		t.Error("SetMaxMsgSize(-2) accepted")
	}
}

// Connections that completed the handshake and then sit idle (legitimate in ZeroMQ: a peer
// may only ever receive) cost a few kB each: no read buffer (it is pooled and taken only
// to read) and no writer goroutine; a peer that sends in bursts gets the large buffer and
// every message arrives in order.
func TestIdleConnectionsAreCheapBusyOnesGetTheLargeBuffer(t *testing.T) {
	router, dealer, port := connectedPair(t)
	const idle = 500
	hello := appendReady(append([]byte(nil), greeting...), Dealer, nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range idle {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.Write(hello)
	}
	if !testutil.Within(10*time.Second, func() bool { return peerCount(router) >= idle }) {
		t.Fatalf("%d of %d idle peers attached", peerCount(router), idle)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := (after.HeapInuse - min(after.HeapInuse, before.HeapInuse)) / idle
	stack := (after.StackInuse - min(after.StackInuse, before.StackInuse)) / idle
	t.Logf("an idle connection holds %d bytes of heap and %d of goroutine stacks", heap, stack)
	if heap > 6<<10 {
		t.Errorf("an idle connection holds %d bytes of heap", heap)
	}

	const burst = 3000
	for i := range burst {
		dealer.Send([][]byte{[]byte(fmt.Sprint(i))})
	}
	for i := range burst {
		if got := recvWithin(t, router, 5*time.Second); string(got[1]) != fmt.Sprint(i) {
			t.Fatalf("message %d: got %q", i, got[1])
		}
	}
	router.mu.Lock()
	defer router.mu.Unlock()
	large := 0
	for _, p := range router.peers {
		if p.r.Size() == readBufferLarge {
			large++
		}
	}
	if large != 1 {
		t.Errorf("%d peers have the large read buffer, want the busy dealer only", large)
	}
}

func peerCount(s *Socket) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.peers)
}
