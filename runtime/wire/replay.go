package wire

import "sync"

// DefaultReplayHistory is how many signatures jupyter_client remembers.
const DefaultReplayHistory = 1 << 16

// ReplayGuard remembers recent signatures so that a message sent twice is refused the
// second time. The history is bounded: the oldest signatures are forgotten first.
type ReplayGuard struct {
	mu   sync.Mutex
	seen map[string]struct{}
	ring []string
	next int
}

// NewReplayGuard remembers up to size signatures (DefaultReplayHistory if size <= 0).
func NewReplayGuard(size int) *ReplayGuard {
	if size <= 0 {
		size = DefaultReplayHistory
	}
	return &ReplayGuard{seen: make(map[string]struct{}, size), ring: make([]string, size)}
}

// Admit records sig and reports whether it was new. Empty signatures (unsigned sessions)
// are always admitted.
func (g *ReplayGuard) Admit(sig []byte) bool {
	if len(sig) == 0 {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, dup := g.seen[string(sig)]; dup {
		return false
	}
	if old := g.ring[g.next]; old != "" {
		delete(g.seen, old)
	}
	s := string(sig)
	g.ring[g.next] = s
	g.seen[s] = struct{}{}
	g.next = (g.next + 1) % len(g.ring)
	return true
}
