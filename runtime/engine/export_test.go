package engine

import "time"

// Queued reports how many shell requests wait behind the running one (read on the loop;
// -1 if the loop does not answer within a second, e.g. because it has stopped).
func Queued(e *Engine) int {
	ch := make(chan int, 1)
	e.loop.Post(func() { ch <- len(e.queue) })
	select {
	case n := <-ch:
		return n
	case <-time.After(time.Second):
		return -1
	}
}
