package controller

import "sort"

func sortStrings(s []string) { sort.Strings(s) }

// byUUIDSnapshot is for tests, which read hub state from another goroutine: it goes
// through the loop.
func (h *hub) byUUIDSnapshot() map[string]int {
	out := make(chan map[string]int, 1)
	h.c.loop.Post(func() {
		m := map[string]int{}
		for uuid, e := range h.byUUID {
			m[uuid] = e.id
		}
		out <- m
	})
	return <-out
}

// onLoop runs f on the controller's loop and waits for it (tests must not touch controller
// state from their own goroutine).
func onLoop(r *running, f func()) {
	done := make(chan struct{})
	r.c.loop.Post(func() { f(); close(done) })
	<-done
}
