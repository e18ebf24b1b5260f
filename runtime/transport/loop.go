//go:build !libzmq

package transport

import (
	"context"
	"sync"
	"time"
)

// Loop runs handlers for the messages of its sockets, timers, and functions posted from
// other goroutines, all on one goroutine: the state they touch needs no locks. Messages sent
// on the loop's sockets are written once per iteration, so a burst of replies to one peer
// costs one system call.
type Loop struct {
	sockets  []*Socket // every socket the loop owns (closed when Run returns)
	polled   []*Socket // those with handlers
	handlers []Handler // handlers of polled

	wake    chan struct{} // a message or a posted function is waiting
	postMu  sync.Mutex
	posted  []func()
	dirty   []*peer // peers with messages to flush (loop goroutine only)
	batch   [][][]byte
	timers  timerHeap
	timerID uint64
	stop    bool
}

// NewLoop makes a loop on ctx. This backend needs nothing of ctx (libzmq's makes its
// wake-up sockets there); the parameter keeps one API for both.
func NewLoop(ctx *Context) (*Loop, error) {
	return &Loop{wake: make(chan struct{}, 1)}, nil
}

// Add registers s; h runs on the loop for each message s receives. A nil h only keeps the
// socket owned by the loop (for send-only sockets). From now on, use s only on the loop.
func (l *Loop) Add(s *Socket, h Handler) {
	s.loop.Store(l)
	l.sockets = append(l.sockets, s)
	if h != nil {
		l.polled = append(l.polled, s)
		l.handlers = append(l.handlers, h)
	}
	l.signal() // messages may have arrived before Add
}

// signal wakes the loop (from any goroutine).
func (l *Loop) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Post runs f on the loop. Safe from any goroutine; f runs in the order posted.
func (l *Loop) Post(f func()) {
	l.postMu.Lock()
	l.posted = append(l.posted, f)
	l.postMu.Unlock()
	l.signal()
}

// markDirty queues p for the end-of-iteration flush.
func (l *Loop) markDirty(p *peer) {
	if !p.dirty {
		p.dirty = true
		l.dirty = append(l.dirty, p)
	}
}

func (l *Loop) flush() {
	for i, p := range l.dirty {
		p.dirty = false
		p.flush()
		l.dirty[i] = nil
	}
	l.dirty = l.dirty[:0]
}

// Stop makes Run return after the current handler. Call it on the loop.
func (l *Loop) Stop() { l.stop = true }

// Run serves the loop until Stop or ctx is done, then closes every socket of the loop (each
// with its linger) and returns. The context itself is left to the caller to Term.
func (l *Loop) Run(ctx context.Context) error {
	defer l.closeAll()
	wait := time.NewTimer(time.Hour)
	defer wait.Stop()
	for !l.stop {
		l.runPosted()
		more := false
		for i := range l.polled {
			if l.stop {
				return nil
			}
			more = l.drain(i) || more
		}
		if l.stop {
			return nil
		}
		l.runTimers()
		l.flush()
		if more || l.stop {
			continue
		}
		var timeout <-chan time.Time
		if t := l.nextTimer(); t != nil {
			wait.Reset(max(time.Until(t.at), 0))
			timeout = wait.C
		}
		select {
		case <-l.wake:
		case <-timeout:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// drain handles the messages waiting on polled socket i, up to a batch, so that one busy
// socket cannot starve the others; it says whether more are waiting.
func (l *Loop) drain(i int) bool {
	s, h := l.polled[i], l.handlers[i]
	var more bool
	l.batch, more = s.popBatch(l.batch[:0], 256)
	for j, frames := range l.batch {
		l.batch[j] = nil
		h(frames)
		if l.stop {
			return false
		}
	}
	return more
}

func (l *Loop) runPosted() {
	l.postMu.Lock()
	fs := l.posted
	l.posted = nil
	l.postMu.Unlock()
	for _, f := range fs {
		f()
	}
}

// closeAll writes what the loop's sockets still hold and closes them.
func (l *Loop) closeAll() {
	l.flush()
	for _, s := range l.sockets {
		s.Close()
	}
	l.sockets, l.polled, l.handlers = nil, nil, nil
}
