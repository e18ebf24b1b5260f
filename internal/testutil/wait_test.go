package testutil

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestWithinReturnsOnceTheConditionHolds(t *testing.T) {
	var calls atomic.Int32
	start := time.Now()
	if !Within(5*time.Second, func() bool { return calls.Add(1) >= 3 }) {
		t.Fatal("Within gave up on a condition that holds on the third call")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v for three polls", d)
	}
}

func TestWithinGivesUpAtTheLimit(t *testing.T) {
	start := time.Now()
	if Within(100*time.Millisecond, func() bool { return false }) {
		t.Fatal("Within reported a condition that never holds")
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("gave up after %v, want about 100ms", d)
	}
}

func TestLogBufferTakesConcurrentWrites(t *testing.T) {
	var b LogBuffer
	done := make(chan struct{})
	for range 4 {
		go func() {
			for range 100 {
				b.Write([]byte("x"))
			}
			done <- struct{}{}
		}()
	}
	for range 4 {
		<-done
	}
	if n := len(b.String()); n != 400 {
		t.Errorf("%d bytes, want 400", n)
	}
}

func TestWithinEveryKeepsItsInterval(t *testing.T) {
	var calls atomic.Int32
	WithinEvery(250*time.Millisecond, 100*time.Millisecond, func() bool { calls.Add(1); return false })
	if n := calls.Load(); n < 2 || n > 4 {
		t.Errorf("%d checks in 250ms at 100ms intervals, want about 4", n)
	}
}
