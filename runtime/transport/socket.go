// Package transport is the only package that touches ZeroMQ (github.com/pebbe/zmq4, cgo over
// libzmq). It offers sockets and an event loop that owns them: ZeroMQ sockets are not safe
// for concurrent use, so every socket of a Loop is read and written on the loop's goroutine.
package transport

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"

	zmq "github.com/pebbe/zmq4"
)

// Kind is a ZeroMQ socket type.
type Kind = zmq.Type

// Socket kinds used by the protocol.
const (
	Router = zmq.ROUTER
	Dealer = zmq.DEALER
	Pub    = zmq.PUB
	Sub    = zmq.SUB
	XPub   = zmq.XPUB
	Pair   = zmq.PAIR
)

// ErrUnroutable is returned by Send on a mandatory ROUTER when the peer is not connected.
var ErrUnroutable = errors.New("peer not connected")

// Context owns ZeroMQ's I/O threads. Close every socket before Term.
type Context struct{ z *zmq.Context }

// NewContext makes a context.
func NewContext() (*Context, error) {
	z, err := zmq.NewContext()
	if err != nil {
		return nil, fmt.Errorf("zmq context: %w", err)
	}
	return &Context{z: z}, nil
}

// Term waits for every socket to be closed and ends the context.
func (c *Context) Term() error { return c.z.Term() }

// Socket is one ZeroMQ socket. Use it from one goroutine at a time.
type Socket struct {
	z    *zmq.Socket
	kind Kind
}

// NewSocket makes a socket with unlimited high-water marks (as ipyparallel sets them) and a
// short linger, so that closing never hangs on an absent peer.
func (c *Context) NewSocket(kind Kind) (*Socket, error) {
	z, err := c.z.NewSocket(kind)
	if err != nil {
		return nil, fmt.Errorf("zmq socket: %w", err)
	}
	s := &Socket{z: z, kind: kind}
	for _, set := range []func(int) error{z.SetSndhwm, z.SetRcvhwm} {
		if err := set(0); err != nil {
			z.Close()
			return nil, err
		}
	}
	if err := z.SetLinger(500e6); err != nil { // 500 ms, in nanoseconds
		z.Close()
		return nil, err
	}
	return s, nil
}

// SetIdentity sets the routing id announced to peers.
func (s *Socket) SetIdentity(id []byte) error { return s.z.SetIdentity(string(id)) }

// SetMandatory makes a ROUTER report unroutable messages (ErrUnroutable) instead of dropping
// them silently.
func (s *Socket) SetMandatory() error { return s.z.SetRouterMandatory(1) }

// Subscribe subscribes a SUB socket to a topic prefix ("" for everything).
func (s *Socket) Subscribe(prefix string) error { return s.z.SetSubscribe(prefix) }

// Bind binds to transport://ip:port; port 0 picks a free port. It returns the bound port.
func (s *Socket) Bind(transport, ip string, port int) (int, error) {
	host := ip
	if host == "" || host == "*" || host == "0.0.0.0" {
		host = "*"
	}
	p := "*"
	if port > 0 {
		p = strconv.Itoa(port)
	}
	if err := s.z.Bind(transport + "://" + host + ":" + p); err != nil {
		return 0, fmt.Errorf("bind %s://%s:%s: %w", transport, host, p, err)
	}
	ep, err := s.z.GetLastEndpoint()
	if err != nil {
		return 0, err
	}
	_, portText, err := net.SplitHostPort(strings.TrimPrefix(ep, transport+"://"))
	if err != nil {
		return 0, fmt.Errorf("parse endpoint %s: %w", ep, err)
	}
	return strconv.Atoi(portText)
}

// BindEndpoint binds to a full endpoint such as inproc://name.
func (s *Socket) BindEndpoint(ep string) error { return s.z.Bind(ep) }

// Connect connects to an endpoint such as tcp://127.0.0.1:5555.
func (s *Socket) Connect(ep string) error {
	if err := s.z.Connect(ep); err != nil {
		return fmt.Errorf("connect %s: %w", ep, err)
	}
	return nil
}

// Send sends a multipart message.
func (s *Socket) Send(frames [][]byte) error {
	last := len(frames) - 1
	for i, f := range frames {
		flag := zmq.SNDMORE
		if i == last {
			flag = 0
		}
		if _, err := s.z.SendBytes(f, flag); err != nil {
			if zmq.AsErrno(err) == zmq.Errno(syscall.EHOSTUNREACH) {
				return ErrUnroutable
			}
			return err
		}
	}
	return nil
}

// Recv blocks for one multipart message.
func (s *Socket) Recv() ([][]byte, error) { return s.z.RecvMessageBytes(0) }

// TryRecv returns the next message, or ok=false when none is waiting.
func (s *Socket) TryRecv() (frames [][]byte, ok bool, err error) {
	frames, err = s.z.RecvMessageBytes(zmq.DONTWAIT)
	if err != nil {
		if zmq.AsErrno(err) == zmq.Errno(syscall.EAGAIN) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return frames, true, nil
}

// SetLinger sets how long Close waits to deliver queued messages.
func (s *Socket) SetLinger(ms int) error { return s.z.SetLinger(msToDuration(ms)) }

// Close closes the socket.
func (s *Socket) Close() error { return s.z.Close() }
