package transport

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"
)

func msToDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

// Handler receives one multipart message from a socket of the loop.
type Handler func(frames [][]byte)

// Loop runs handlers for the messages of its sockets, timers, and functions posted from
// other goroutines, all on one goroutine: the state they touch needs no locks.
type Loop struct {
	ctx      *Context
	poller   *zmq.Poller
	sockets  []*Socket // every socket the loop owns (closed when Run returns)
	polled   []*Socket // those with handlers, in poller order after the wake socket
	handlers []Handler // handlers of polled

	wakeRecv *zmq.Socket // inproc PAIR read by the loop
	wakeMu   sync.Mutex
	wakeSend *zmq.Socket // inproc PAIR written by Post, under wakeMu
	posted   []func()

	timers  timerHeap
	timerID uint64
	stop    bool
	running atomic.Bool
}

var loopSeq atomic.Uint64

// NewLoop makes a loop on ctx.
func NewLoop(ctx *Context) (*Loop, error) {
	l := &Loop{ctx: ctx, poller: zmq.NewPoller()}
	name := fmt.Sprintf("inproc://loop-wake-%d", loopSeq.Add(1))
	var err error
	if l.wakeRecv, err = ctx.z.NewSocket(zmq.PAIR); err != nil {
		return nil, err
	}
	if err = l.wakeRecv.Bind(name); err != nil {
		return nil, err
	}
	if l.wakeSend, err = ctx.z.NewSocket(zmq.PAIR); err != nil {
		return nil, err
	}
	if err = l.wakeSend.Connect(name); err != nil {
		return nil, err
	}
	l.poller.Add(l.wakeRecv, zmq.POLLIN)
	return l, nil
}

// Context returns the loop's context.
func (l *Loop) Context() *Context { return l.ctx }

// Add registers s; h runs on the loop for each message s receives. A nil h only keeps the
// socket owned by the loop (for send-only sockets).
func (l *Loop) Add(s *Socket, h Handler) {
	l.sockets = append(l.sockets, s)
	if h != nil {
		l.polled = append(l.polled, s)
		l.handlers = append(l.handlers, h)
		l.poller.Add(s.z, zmq.POLLIN)
	}
}

// Post runs f on the loop. Safe from any goroutine; f runs in the order posted.
func (l *Loop) Post(f func()) {
	l.wakeMu.Lock()
	defer l.wakeMu.Unlock()
	first := len(l.posted) == 0
	l.posted = append(l.posted, f)
	if first && l.wakeSend != nil {
		l.wakeSend.SendBytes([]byte{1}, zmq.DONTWAIT)
	}
}

// Timer is a pending call scheduled with After.
type Timer struct {
	at    time.Time
	f     func()
	id    uint64
	index int
	dead  bool
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

// Stop makes Run return after the current handler. Call it on the loop.
func (l *Loop) Stop() { l.stop = true }

// Run serves the loop until Stop or ctx is done, then closes every socket of the loop (each
// with its linger) and returns. The context itself is left to the caller to Term.
func (l *Loop) Run(ctx context.Context) error {
	l.running.Store(true)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			l.Post(l.Stop)
		case <-done:
		}
	}()
	defer l.closeAll()
	for !l.stop {
		timeout := time.Duration(-1)
		if t := l.nextTimer(); t != nil {
			timeout = time.Until(t.at)
			if timeout < 0 {
				timeout = 0
			}
		}
		polled, err := l.poller.PollAll(timeout)
		if err != nil {
			if zmq.AsErrno(err) == zmq.Errno(syscall.EINTR) { // EINTR: a signal arrived; poll again
				continue
			}
			return fmt.Errorf("poll: %w", err)
		}
		for i, p := range polled {
			if p.Events&zmq.POLLIN == 0 {
				continue
			}
			if i == 0 {
				l.runPosted()
				continue
			}
			l.drain(i - 1)
			if l.stop {
				return nil
			}
		}
		l.runTimers()
	}
	return nil
}

// drain handles the messages waiting on the socket at poller index i (offset by the wake
// socket), up to a batch, so that one busy socket cannot starve the others.
func (l *Loop) drain(i int) {
	s, h := l.polled[i], l.handlers[i]
	for range 256 {
		frames, ok, err := s.TryRecv()
		if err != nil || !ok {
			return
		}
		h(frames)
		if l.stop {
			return
		}
	}
}

func (l *Loop) runPosted() {
	for {
		if _, err := l.wakeRecv.RecvBytes(zmq.DONTWAIT); err != nil {
			break
		}
	}
	l.wakeMu.Lock()
	fs := l.posted
	l.posted = nil
	l.wakeMu.Unlock()
	for _, f := range fs {
		f()
	}
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

func (l *Loop) closeAll() {
	for _, s := range l.sockets {
		s.Close()
	}
	l.sockets, l.polled, l.handlers = nil, nil, nil
	l.wakeMu.Lock()
	l.wakeSend.Close()
	l.wakeSend = nil
	l.wakeMu.Unlock()
	l.wakeRecv.Close()
}

type timerHeap []*Timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].id < h[j].id
	}
	return h[i].at.Before(h[j].at)
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *timerHeap) Push(x any)   { t := x.(*Timer); t.index = len(*h); *h = append(*h, t) }
func (h *timerHeap) Pop() any     { old := *h; t := old[len(old)-1]; *h = old[:len(old)-1]; return t }
