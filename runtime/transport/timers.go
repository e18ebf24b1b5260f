package transport

import (
	"container/heap"
	"time"
)

// The timers of a Loop, shared by both backends: each Loop has the fields timers, timerID
// and stop, and runs runTimers once per iteration.

// Timer is a pending call scheduled with After.
type Timer struct {
	at   time.Time
	f    func()
	id   uint64
	dead bool
}

// Stop cancels the timer. Call it on the loop.
func (t *Timer) Stop() { t.dead = true }

// After runs f on the loop after d. Call it on the loop (or before Run).
func (l *Loop) After(d time.Duration, f func()) *Timer {
	l.timerID++
	t := &Timer{at: time.Now().Add(d), f: f, id: l.timerID}
	heap.Push(&l.timers, t)
	return t
}

func (l *Loop) nextTimer() *Timer {
	for len(l.timers) > 0 && l.timers[0].dead {
		heap.Pop(&l.timers)
	}
	if len(l.timers) == 0 {
		return nil
	}
	return l.timers[0]
}

func (l *Loop) runTimers() {
	now := time.Now()
	for {
		t := l.nextTimer()
		if t == nil || t.at.After(now) || l.stop {
			return
		}
		heap.Pop(&l.timers)
		t.f()
	}
}

type timerHeap []*Timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].id < h[j].id
	}
	return h[i].at.Before(h[j].at)
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(*Timer)) }
func (h *timerHeap) Pop() any     { old := *h; t := old[len(old)-1]; *h = old[:len(old)-1]; return t }
