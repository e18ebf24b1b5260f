package transport

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

func TestLoopEchoPostTimersAndStop(t *testing.T) {
	before := runtime.NumGoroutine()
	zctx, loop := newContextAndLoop(t)
	router, _ := zctx.NewSocket(Router)
	router.SetIdentity([]byte("server"))
	router.SetMandatory()
	port, err := router.Bind("tcp", "127.0.0.1", 0)
	if err != nil || port == 0 {
		t.Fatalf("bind: %d %v", port, err)
	}
	loop.Add(router, func(f [][]byte) { router.Send(f) })

	// a send to an identity nobody has is reported, not silently dropped
	if err := router.Send([][]byte{[]byte("nobody"), []byte("x")}); err != ErrUnroutable {
		t.Errorf("send to unknown peer: %v, want ErrUnroutable", err)
	}

	fired := make(chan string, 4)
	loop.After(30*time.Millisecond, func() { fired <- "late" })
	loop.After(10*time.Millisecond, func() { fired <- "early" })
	cancelled := loop.After(5*time.Millisecond, func() { fired <- "cancelled" })
	cancelled.Stop()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- loop.Run(ctx) }()

	dealer, _ := zctx.NewSocket(Dealer)
	if err := dealer.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", port)); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		msg := []byte(fmt.Sprint(i))
		dealer.Send([][]byte{msg})
		got, err := dealer.Recv()
		if err != nil || string(got[0]) != string(msg) {
			t.Fatalf("echo %d: %q %v", i, got, err)
		}
	}
	if a, b := <-fired, <-fired; a != "early" || b != "late" {
		t.Fatalf("timers fired %s, %s", a, b)
	}
	ran := make(chan bool)
	go loop.Post(func() { ran <- true })
	<-ran
	dealer.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := zctx.Term(); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-fired:
		t.Fatalf("unexpected timer %s", s)
	default:
	}
	testutil.NoGoroutinesLeft(t, 2*time.Second, before)
}

// The controller binds its sockets before it adds them to its loop, so connections may
// already be delivering messages when Add runs; under -race this shows whether Add and the
// connection goroutines agree on the socket's loop without a data race.
func TestAddAfterBindWhilePeersDeliver(t *testing.T) {
	zctx, loop := newContextAndLoop(t)
	router, _ := zctx.NewSocket(Router)
	port, err := router.Bind("tcp", "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	dealer, _ := zctx.NewSocket(Dealer)
	defer func() { dealer.Close(); zctx.Term() }()
	if err := dealer.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", port)); err != nil {
		t.Fatal(err)
	}
	dealer.Send([][]byte{[]byte("before")})
	if got := recvWithin(t, router, 5*time.Second); string(got[1]) != "before" {
		t.Fatalf("before Add: got %q", got)
	}

	loop.Add(router, func(f [][]byte) { router.Send(f) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- loop.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for i := range 20 {
		msg := []byte(fmt.Sprint("after ", i))
		dealer.Send([][]byte{msg})
		got, err := dealer.Recv()
		if err != nil || string(got[0]) != string(msg) {
			t.Fatalf("echo %d: %q %v", i, got, err)
		}
	}
}
