package testutil

import (
	"testing"
	"time"
)

// maxPause is the longest Within waits between two checks of a condition.
const maxPause = 50 * time.Millisecond

// Within polls cond until it holds (true) or limit passes (false). Polling starts at once
// and backs off from 1 ms to 50 ms, so a condition that is met quickly costs little time
// and a slow one costs little CPU.
func Within(limit time.Duration, cond func() bool) bool {
	return poll(limit, 0, cond)
}

// WithinEvery is Within for a costly condition (one that runs a command, say): it checks
// cond every interval instead of backing off from 1 ms.
func WithinEvery(limit, interval time.Duration, cond func() bool) bool {
	return poll(limit, interval, cond)
}

// Eventually waits up to limit for cond to hold and fails the test, naming what it waited
// for, if it does not. This is how tests wait for readiness: never a bare sleep.
func Eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Within(limit, cond) {
		t.Fatalf("timed out after %v waiting for %s", limit, what)
	}
}

// poll checks cond every interval, or with a pause that doubles from 1 ms to maxPause when
// interval is 0, until it holds or limit has passed.
func poll(limit, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	pause := interval
	if pause <= 0 {
		pause = time.Millisecond
	}
	for !cond() {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(pause, left))
		if interval <= 0 {
			pause = min(2*pause, maxPause)
		}
	}
	return true
}
