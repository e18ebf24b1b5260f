//go:build !libzmq

package transport

import (
	"encoding/binary"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Context groups sockets: Term waits until every socket's connections have finished
// (closed sockets linger until their queued messages are written or the linger expires).
type Context struct {
	wg     sync.WaitGroup
	nextID atomic.Uint32 // for routing ids of peers that announce none
	log    atomic.Pointer[slog.Logger]

	handshakeTimeout atomic.Int64 // time.Duration: see SetHandshakeTimeout
	refusals         logLimiter   // warnings about single connections
}

// defaultHandshakeTimeout bounds the greeting and READY exchange of a new connection unless
// SetHandshakeTimeout says otherwise (libzmq's ZMQ_HANDSHAKE_IVL, 30 s there).
const defaultHandshakeTimeout = 10 * time.Second

// SetHandshakeTimeout sets how long a new connection may take to complete the ZMTP
// handshake (greeting and READY) before it is closed, so that peers which connect and then
// stall cannot pile up; it applies to connections made after the call. d <= 0 restores the
// default (10 s).
func (c *Context) SetHandshakeTimeout(d time.Duration) {
	if d <= 0 {
		d = defaultHandshakeTimeout
	}
	c.handshakeTimeout.Store(int64(d))
}

func (c *Context) handshakeDeadline() time.Time {
	return time.Now().Add(time.Duration(c.handshakeTimeout.Load()))
}

// SetLogger makes the context report connections it refuses (a peer that is not ZMTP,
// wants a security mechanism we lack, or sends a malformed frame); without it they are
// dropped silently, as libzmq does.
func (c *Context) SetLogger(l *slog.Logger) { c.log.Store(l) }

func (c *Context) warn(msg string, args ...any) {
	if l := c.log.Load(); l != nil {
		l.Warn(msg, args...)
	}
}

// warnConnection reports a refused or dropped connection, within the rate limit of
// c.refusals: thousands of stalled or hostile peers make a few lines and a count.
func (c *Context) warnConnection(msg string, args ...any) {
	if l := c.log.Load(); l != nil {
		c.refusals.warn(l, msg, args...)
	}
}

func (c *Context) info(msg string, args ...any) {
	if l := c.log.Load(); l != nil {
		l.Info(msg, args...)
	}
}

// NewContext makes a context.
func NewContext() (*Context, error) {
	c := &Context{}
	c.nextID.Store(rand.Uint32())
	c.handshakeTimeout.Store(int64(defaultHandshakeTimeout))
	c.refusals = logLimiter{burst: 5, interval: 10 * time.Second}
	return c, nil
}

// Term waits for every socket's goroutines to end. Close every socket before Term.
func (c *Context) Term() error {
	c.wg.Wait()
	if l := c.log.Load(); l != nil {
		c.refusals.flush(l)
	}
	return nil
}

// newRoutingID makes an id for a peer without one, in libzmq's form: a zero byte and a
// 32-bit counter (a user-set identity cannot start with a zero byte).
func (c *Context) newRoutingID() []byte {
	id := make([]byte, 5)
	binary.BigEndian.PutUint32(id[1:], c.nextID.Add(1))
	return id
}

// logLimiter lets the first burst warnings of each interval through and counts the rest,
// logging the count per message when the interval ends.
type logLimiter struct {
	burst    int
	interval time.Duration

	mu         sync.Mutex
	logged     int            // lines let through in the current interval
	suppressed map[string]int // lines held back in the current interval, by message
	timer      *time.Timer    // ends the current interval
}

func (r *logLimiter) warn(l *slog.Logger, msg string, args ...any) {
	r.mu.Lock()
	if r.timer == nil {
		r.timer = time.AfterFunc(r.interval, func() { r.flush(l) })
	}
	if r.logged < r.burst {
		r.logged++
		r.mu.Unlock()
		l.Warn(msg, args...)
		return
	}
	if r.suppressed == nil {
		r.suppressed = map[string]int{}
	}
	r.suppressed[msg]++
	r.mu.Unlock()
}

// flush ends the current interval, logging how many lines it held back.
func (r *logLimiter) flush(l *slog.Logger) {
	r.mu.Lock()
	held := r.suppressed
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timer, r.logged, r.suppressed = nil, 0, nil
	r.mu.Unlock()
	for msg, n := range held {
		l.Warn(msg+" (more, not logged one by one)", "count", n, "within", r.interval)
	}
}
