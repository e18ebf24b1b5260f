// Package client is a Go client for an ipyparallel controller (ours or ipyparallel's own):
// it connects from a connection file or a profile, keeps the engine ids current, runs code
// on chosen engines (direct) or as load-balanced tasks with dependencies and retries,
// collects each engine's output, and asks the Hub for queue status and shutdowns.
//
// Like ipyparallel's Client, it owns one socket per controller channel (registration,
// mux, task, control, broadcast DEALERs; iopub and notification SUBs). All of them live
// on one transport.Loop goroutine; methods, which may be called from many goroutines, hand
// work to that goroutine and wait on channels, so a Client needs no locks around its
// sockets or its table of outstanding requests.
package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"ipcluster/profiles"
	"ipcluster/remote"
	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

// Client is a connection to one controller. Make it with Connect, release it with Close.
type Client struct {
	log     *slog.Logger
	opts    Options
	info    profiles.ClientInfo
	session *wire.Session
	enc     *encoder
	zctx    *transport.Context
	loop    *transport.Loop

	query, mux, task, control, bcast, iopub, notify *transport.Socket

	tunnel *remote.Tunnel // when tunnelling through ssh (tunnel.go)
	urls   map[int]string // controller port -> local forward, when tunnelling

	engines engineTable

	stop      context.CancelFunc
	closeOnce sync.Once
	done      chan struct{} // closed once the loop has stopped and the sockets are closed
	runErr    error         // why the loop stopped; read only after done

	// Owned by the loop goroutine.
	pending    map[string]*request // execute requests (direct and tasks) by msg_id
	waiters    map[string]*waiter  // Hub queries and control requests by msg_id
	graceQueue []*request          // replied requests waiting for "idle", in reply order
	graceTimer *transport.Timer    // armed for the head of graceQueue
	cause      error               // what to tell callers once the loop stops
}

// Connect reads the connection file (waiting for it to appear), connects every channel,
// asks the Hub for the registered engines, and returns a running Client. ctx bounds the
// whole connection (Options.ConnectTimeout too); it is not kept afterwards.
func Connect(ctx context.Context, opts Options) (*Client, error) {
	opts.setDefaults()
	ctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	info, err := opts.loadInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	c := &Client{
		log: opts.Logger, opts: opts, info: *info,
		done:    make(chan struct{}),
		pending: map[string]*request{},
		waiters: map[string]*waiter{},
		cause:   ErrClosed,
	}
	c.engines.init()
	if c.session, err = wire.NewSession([]byte(info.Key), info.SignatureScheme); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	c.enc = newEncoder(c.session)
	if err := c.openTunnel(ctx); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := c.open(); err != nil {
		c.closeTunnel()
		return nil, fmt.Errorf("connect: %w", err)
	}
	loopCtx, stop := context.WithCancel(context.Background())
	c.stop = stop
	go c.run(loopCtx)

	if err := c.refresh(ctx); err != nil {
		c.Close()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("hub connection request timed out: %w", err)
		}
		return nil, fmt.Errorf("connect to %s: %w", endpoint(info, info.Registration), err)
	}
	return c, nil
}

// open makes and connects the sockets and hands them to a new loop. The SUBs connect first
// so that their subscriptions are in place by the time the Hub has answered the
// connection_request: messages published before that would be lost to this client.
func (c *Client) open() (err error) {
	if c.zctx, err = transport.NewContext(); err != nil {
		return err
	}
	c.zctx.SetLogger(c.log)
	if c.loop, err = transport.NewLoop(c.zctx); err != nil {
		c.zctx.Term()
		return err
	}
	defer func() {
		if err != nil {
			// Release what was made: running the loop once (already stopped) closes every
			// socket handed to it, including its own wake sockets, so that Term returns.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			c.loop.Run(ctx)
			c.zctx.Term()
		}
	}()
	channels := []struct {
		sock    **transport.Socket
		kind    transport.Kind
		port    int
		handler transport.Handler
	}{
		{&c.iopub, transport.Sub, c.info.IOPub, c.onIOPub},
		{&c.notify, transport.Sub, c.info.Notification, c.onNotification},
		{&c.query, transport.Dealer, c.info.Registration, c.onSingleReply},
		{&c.mux, transport.Dealer, c.info.Mux, c.onReply},
		{&c.task, transport.Dealer, c.info.Task, c.onReply},
		{&c.control, transport.Dealer, c.info.Control, c.onSingleReply},
		{&c.bcast, transport.Dealer, c.info.Broadcast, c.onReply},
	}
	// With a curve_serverkey every socket is a CurveZMQ client, with a key pair of its own
	// for this client (as ipyparallel 9's Client makes one).
	serverKey := curveServerKey(&c.info)
	var own transport.CurveKeys
	if serverKey != "" {
		if own, err = transport.NewCurveKeypair(); err != nil {
			return fmt.Errorf("connection file has curve_serverkey: %w", err)
		}
	}
	for _, ch := range channels {
		s, err := c.zctx.NewSocket(ch.kind)
		if err != nil {
			return err
		}
		c.loop.Add(s, ch.handler)
		if serverKey != "" {
			if err := s.SetCurveClient(serverKey, own); err != nil {
				return err
			}
		}
		if ch.kind == transport.Sub {
			if err := s.Subscribe(""); err != nil {
				return fmt.Errorf("subscribe: %w", err)
			}
		}
		if err := s.Connect(c.url(ch.port)); err != nil {
			return err
		}
		*ch.sock = s
	}
	return nil
}

// run serves the loop until Close or a shutdown notification, then fails whatever is
// still outstanding (on this goroutine, which owns that state once the loop is over).
func (c *Client) run(ctx context.Context) {
	err := c.loop.Run(ctx)
	c.failAll(c.cause)
	if termErr := c.zctx.Term(); err == nil {
		err = termErr
	}
	c.closeTunnel()
	c.runErr = err
	close(c.done)
}

// Close stops the client: outstanding requests fail with ErrClosed, sockets are closed and
// every goroutine of the client has ended when it returns. Safe to call more than once.
func (c *Client) Close() error {
	c.closeOnce.Do(func() { c.stop() })
	<-c.done
	return c.runErr
}

// Done is closed once the client has stopped (Close, or the controller shut down).
func (c *Client) Done() <-chan struct{} { return c.done }

// Session is the client's session id: header.session of everything it sends.
func (c *Client) Session() string { return c.session.ID }

// TaskScheme is the controller's load-balancing scheme (from the connection file).
func (c *Client) TaskScheme() string { return c.info.TaskScheme }

// closedErr is the error for calls on a stopped client. Call after done is closed.
func (c *Client) closedErr() error { return c.cause }

// do runs f on the loop and waits until it has run; it fails if the client stops first.
func (c *Client) do(f func()) error {
	ran := make(chan struct{})
	c.loop.Post(func() { f(); close(ran) })
	select {
	case <-ran:
		return nil
	case <-c.done:
		select {
		case <-ran:
			return nil
		default:
			return c.closedErr()
		}
	}
}

// shutDownByController stops the loop after the Hub announced its shutdown, as
// ipyparallel's Client closes itself then. Runs on the loop.
func (c *Client) shutDownByController() {
	c.cause = fmt.Errorf("%w: %w", ErrClosed, ErrControllerShutdown)
	c.loop.Stop()
}

// decode checks a message's signature; bad or replayed messages are dropped, as
// jupyter_client does.
func (c *Client) decode(where string, frames [][]byte) (*wire.Raw, bool) {
	r, err := c.session.Decode(frames)
	if err != nil {
		c.log.Debug("dropped message", "socket", where, "err", err)
		return nil, false
	}
	return r, true
}
