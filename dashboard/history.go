package dashboard

import (
	"slices"
	"time"
)

// history keeps the charts' samples for a fixed window, and the per-engine completion counts
// that the next sample's throughput is measured against.
type history struct {
	window  time.Duration
	samples []Sample
	last    map[int]int // engine id -> completed, at the previous sample
	lastAt  time.Time
}

func newHistory(window time.Duration) *history { return &history{window: window} }

// add takes one poll of the controller: the completed count of each registered engine, the
// queue depth and the busy engines. Throughput counts, per engine, what it completed since the
// previous poll; an engine new since then counts from zero, and one that left counts no more
// (the controller forgets its numbers when it unregisters).
func (h *history) add(now time.Time, completed map[int]int, depth, busy int) {
	if h.last == nil { // the first poll is the baseline
		h.last, h.lastAt = completed, now
		return
	}
	finished := 0
	for id, n := range completed {
		finished += max(n-h.last[id], 0)
	}
	s := Sample{Time: now, Finished: finished, Depth: depth, Busy: busy}
	if el := now.Sub(h.lastAt).Seconds(); el > 0 {
		s.Rate = float64(finished) / el
	}
	h.last, h.lastAt = completed, now
	h.samples = append(h.samples, s)
	cut := 0
	for cut < len(h.samples) && now.Sub(h.samples[cut].Time) > h.window {
		cut++
	}
	if cut > 0 {
		h.samples = slices.Delete(h.samples, 0, cut)
	}
}

// reset forgets the baseline (a new connection to the controller: its counts may restart).
func (h *history) reset() { h.last = nil }

func (h *history) copy() []Sample { return slices.Clone(h.samples) }
