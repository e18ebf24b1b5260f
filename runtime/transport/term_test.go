package transport

import (
	"testing"
	"time"
)

// A program that fails while setting up (a port in use) closes its sockets and terminates
// its context without ever running its loop: Term must return, on both backends.
func TestTermAfterALoopThatNeverRan(t *testing.T) {
	zctx, loop := newContextAndLoop(t)
	router, err := zctx.NewSocket(Router)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := router.Bind("tcp", "127.0.0.1", 0); err != nil {
		t.Fatal(err)
	}
	loop.Add(router, func([][]byte) {})
	loop.Post(func() { t.Error("a posted function ran without Run") })
	router.Close()
	done := make(chan error, 1)
	go func() { done <- zctx.Term() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Term did not return: the loop holds something that was never closed")
	}
}
