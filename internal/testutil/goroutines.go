package testutil

import (
	"runtime"
	"testing"
	"time"
)

// NoGoroutinesLeft waits up to limit for the number of goroutines to come back to before
// (they end a moment after the sockets and channels they serve close) and fails the test,
// with every goroutine's stack, if it does not.
func NoGoroutinesLeft(t testing.TB, limit time.Duration, before int) {
	t.Helper()
	if !Within(limit, func() bool { return runtime.NumGoroutine() <= before }) {
		n := runtime.NumGoroutine()
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines left running (before: %d):\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
