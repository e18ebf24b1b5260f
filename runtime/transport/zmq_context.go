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

// Term waits until every socket is closed (and has lingered) and ends the context.
func (c *Context) Term() error {
	if err := c.z.Term(); err != nil {
		return fmt.Errorf("zmq term: %w", err)
	}
	return nil
}
