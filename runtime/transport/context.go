//go:build !libzmq

package transport

import (
	"encoding/binary"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// Context groups sockets: Term waits until every socket's connections have finished
// (closed sockets linger until their queued messages are written or the linger expires).
type Context struct {
	wg     sync.WaitGroup
	nextID atomic.Uint32 // for routing ids of peers that announce none
	log    atomic.Pointer[slog.Logger]
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

// NewContext makes a context.
func NewContext() (*Context, error) {
	c := &Context{}
	c.nextID.Store(rand.Uint32())
	return c, nil
}

// Term waits for every socket's goroutines to end. Close every socket before Term.
func (c *Context) Term() error {
	c.wg.Wait()
	return nil
}

// newRoutingID makes an id for a peer without one, in libzmq's form: a zero byte and a
// 32-bit counter (a user-set identity cannot start with a zero byte).
func (c *Context) newRoutingID() []byte {
	id := make([]byte, 5)
	binary.BigEndian.PutUint32(id[1:], c.nextID.Add(1))
	return id
}
