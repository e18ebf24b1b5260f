//go:build libzmq

// Package transport, in this build (tag libzmq), is libzmq through github.com/pebbe/zmq4
// (cgo): the same API as the default pure-Go ZMTP backend, for what only libzmq offers. A
// libzmq socket is not safe for concurrent use, so every socket of a Loop is used on the
// loop's goroutine only, and a socket outside a loop by one goroutine at a time.
package transport

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// Backend names the transport this binary was built with, and libzmq's version.
func Backend() string {
	major, minor, patch := zmq.Version()
	return fmt.Sprintf("libzmq %d.%d.%d via pebbe/zmq4", major, minor, patch)
}

// Context owns libzmq's I/O thread. Close every socket before Term.
type Context struct {
	z   *zmq.Context
	log atomic.Pointer[slog.Logger]
	// handshake is ZMQ_HANDSHAKE_IVL for sockets made from now on (0: libzmq's 30 s).
	handshake atomic.Int64
}

// NewContext makes a context.
func NewContext() (*Context, error) {
	z, err := zmq.NewContext()
	if err != nil {
		return nil, fmt.Errorf("zmq context: %w", err)
	}
	return &Context{z: z}, nil
}

// SetLogger keeps the logger for the API's sake: libzmq drops connections it refuses
// silently and does not tell us about them.
func (c *Context) SetLogger(l *slog.Logger) { c.log.Store(l) }

// SetHandshakeTimeout sets how long a new connection may take to complete the ZMTP
// handshake before libzmq closes it (ZMQ_HANDSHAKE_IVL), for sockets made after the call;
// d <= 0 restores libzmq's default.
func (c *Context) SetHandshakeTimeout(d time.Duration) { c.handshake.Store(int64(max(d, 0))) }

// Term waits until every socket is closed (and has lingered) and ends the context.
func (c *Context) Term() error {
	if err := c.z.Term(); err != nil {
		return fmt.Errorf("zmq term: %w", err)
	}
	return nil
}
