//go:build libzmq

package transport

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// Loop runs handlers for the messages of its sockets, timers, and functions posted from
// other goroutines, all on one goroutine: the state they touch needs no locks, and each
// libzmq socket is used by that goroutine only. It waits in zmq_poll on its sockets and,
// while Run runs, on an inproc PAIR that Post writes to. A loop holds no libzmq socket of
// its own outside Run, so that, as with the pure-Go backend, a context whose loop never ran
// can be terminated.
type Loop struct {
	ctx     *Context
	poller  *zmq.Poller
	onReady []func()  // what to do when poller item i is readable
	sockets []*Socket // every socket the loop owns (closed when Run returns)

	wakeRecv *zmq.Socket // inproc PAIR read by the loop (during Run)
	wakeMu   sync.Mutex
	wakeSend *zmq.Socket // inproc PAIR written by Post, under wakeMu; nil outside Run
	posted   []func()

	timers  timerHeap
	timerID uint64
	stop    bool
}

var loopSeq atomic.Uint64

// NewLoop makes a loop on ctx.
func NewLoop(ctx *Context) (*Loop, error) {
	return &Loop{ctx: ctx, poller: zmq.NewPoller()}, nil
}

// Add registers s; h runs on the loop for each message s receives. A nil h only keeps the
// socket owned by the loop (for send-only sockets). From now on, use s only on the loop.
func (l *Loop) Add(s *Socket, h Handler) {
	l.sockets = append(l.sockets, s)
	if h != nil {
		l.poller.Add(s.z, zmq.POLLIN)
		l.onReady = append(l.onReady, func() { l.drain(s, h) })
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

// openWake makes the PAIR that Post wakes the loop with, and polls it.
func (l *Loop) openWake() error {
	name := fmt.Sprintf("inproc://loop-wake-%d", loopSeq.Add(1))
	recv, err := l.ctx.z.NewSocket(zmq.PAIR)
	if err != nil {
		return err
	}
	send, err := l.ctx.z.NewSocket(zmq.PAIR)
	if err != nil {
		recv.Close()
		return err
	}
	if err = recv.Bind(name); err == nil {
		err = send.Connect(name)
	}
	if err != nil {
		recv.Close()
		send.Close()
		return err
	}
	l.wakeRecv = recv
	l.poller.Add(recv, zmq.POLLIN)
	l.onReady = append(l.onReady, l.runPosted)
	l.wakeMu.Lock()
	l.wakeSend = send
	l.wakeMu.Unlock()
	return nil
}

// Stop makes Run return after the current handler. Call it on the loop.
func (l *Loop) Stop() { l.stop = true }

// Run serves the loop until Stop or ctx is done, then closes every socket of the loop (each
// with its linger) and returns. The context itself is left to the caller to Term.
func (l *Loop) Run(ctx context.Context) error {
	defer l.closeAll()
	if err := l.openWake(); err != nil {
		return fmt.Errorf("loop wake socket: %w", err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			l.Post(l.Stop)
		case <-done:
		}
	}()
	if !l.stop {
		l.runPosted() // what was posted before Run
	}
	for !l.stop {
		timeout := time.Duration(-1)
		if t := l.nextTimer(); t != nil {
			timeout = max(time.Until(t.at), 0)
		}
		polled, err := l.poller.PollAll(timeout)
		if err != nil {
			if zmq.AsErrno(err) == zmq.Errno(syscall.EINTR) {
				continue // a signal arrived; poll again
			}
			return fmt.Errorf("poll: %w", err)
		}
		for i, p := range polled {
			if p.Events&zmq.POLLIN == 0 {
				continue
			}
			l.onReady[i]()
			if l.stop {
				return nil
			}
		}
		l.runTimers()
	}
	return nil
}

// drain handles the messages waiting on s, up to a batch, so that one busy socket cannot
// starve the others.
func (l *Loop) drain(s *Socket, h Handler) {
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

// closeAll closes the loop's sockets (each lingers in libzmq) and its wake sockets.
func (l *Loop) closeAll() {
	for _, s := range l.sockets {
		s.Close()
	}
	l.sockets, l.onReady, l.poller = nil, nil, zmq.NewPoller()
	l.wakeMu.Lock()
	if l.wakeSend != nil {
		l.wakeSend.Close()
		l.wakeSend = nil
	}
	l.wakeMu.Unlock()
	if l.wakeRecv != nil {
		l.wakeRecv.Close()
		l.wakeRecv = nil
	}
}
