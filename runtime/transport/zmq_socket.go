//go:build libzmq

package transport

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// zmqTypes maps our kinds to libzmq's socket types.
var zmqTypes = map[Kind]zmq.Type{Router: zmq.ROUTER, Dealer: zmq.DEALER, Pub: zmq.PUB, Sub: zmq.SUB}

// Socket is one libzmq socket. Use it from one goroutine at a time (the loop's, once added).
type Socket struct {
	z      *zmq.Socket
	kind   Kind
	closed bool
	// ipcFiles are the socket files this socket bound: libzmq 4.3 leaves them behind on
	// close, so Close removes them (as the pure-Go backend's listeners do).
	ipcFiles []string
}

// NewSocket makes a socket with unlimited queues (high-water marks 0, as ipyparallel sets
// them) and a short linger, so that closing never hangs on an absent peer.
func (c *Context) NewSocket(kind Kind) (*Socket, error) {
	t, ok := zmqTypes[kind]
	if !ok {
		return nil, fmt.Errorf("socket kind %d is not supported", kind)
	}
	z, err := c.z.NewSocket(t)
	if err != nil {
		return nil, fmt.Errorf("zmq socket: %w", err)
	}
	for _, set := range []func() error{
		func() error { return z.SetSndhwm(0) },
		func() error { return z.SetRcvhwm(0) },
		func() error { return z.SetLinger(500 * time.Millisecond) },
		func() error {
			if d := time.Duration(c.handshake.Load()); d > 0 {
				return z.SetHandshakeIvl(d)
			}
			return nil
		},
	} {
		if err := set(); err != nil {
			z.Close()
			return nil, fmt.Errorf("zmq socket options: %w", err)
		}
	}
	return &Socket{z: z, kind: kind}, nil
}

// SetIdentity sets the routing id announced to peers. Call it before Bind or Connect.
func (s *Socket) SetIdentity(id []byte) error {
	if len(id) > 255 {
		return errors.New("identity longer than 255 bytes")
	}
	return s.z.SetIdentity(string(id))
}

// SetMandatory makes a ROUTER report unroutable messages (ErrUnroutable) instead of dropping
// them silently.
func (s *Socket) SetMandatory() error { return s.z.SetRouterMandatory(1) }

// SetMaxMsgSize sets the largest frame a peer may send, in bytes (ZMQ_MAXMSGSIZE): libzmq
// disconnects a peer that sends a larger one. -1, the default, accepts any size.
func (s *Socket) SetMaxMsgSize(n int64) error {
	if n < -1 {
		return fmt.Errorf("maximum message size %d: want -1 (no limit) or a size in bytes", n)
	}
	return s.z.SetMaxmsgsize(n)
}

// SetSendHWM sets the send high-water mark (ZMQ_SNDHWM), in messages per connection: at
// the mark a PUB or ROUTER drops the message, a mandatory ROUTER or a DEALER returns
// ErrFull (Send never blocks). 0, the default here, is no limit.
func (s *Socket) SetSendHWM(n int) error {
	if n < 0 {
		return fmt.Errorf("send high-water mark %d: want 0 (no limit) or a number of messages", n)
	}
	return s.z.SetSndhwm(n)
}

// SetRecvHWM sets the receive high-water mark (ZMQ_RCVHWM), in messages per connection:
// at the mark libzmq stops reading that connection until the owner catches up. 0, the
// default here, is no limit.
func (s *Socket) SetRecvHWM(n int) error {
	if n < 0 {
		return fmt.Errorf("receive high-water mark %d: want 0 (no limit) or a number of messages", n)
	}
	return s.z.SetRcvhwm(n)
}

// SetLinger sets how long Close keeps writing queued messages.
func (s *Socket) SetLinger(ms int) error {
	return s.z.SetLinger(time.Duration(ms) * time.Millisecond)
}

// Subscribe subscribes a SUB socket to a topic prefix ("" for everything).
func (s *Socket) Subscribe(prefix string) error {
	if s.kind != Sub {
		return errors.New("subscribe: not a SUB socket")
	}
	return s.z.SetSubscribe(prefix)
}

// Bind listens on transport://ip:port; port 0 picks a free port. It returns the bound port.
// For ipc, ip is a path prefix and the socket file is "<ip>:<port>" (see endpoint.go).
func (s *Socket) Bind(transport, ip string, port int) (int, error) {
	switch transport {
	case "tcp":
	case "ipc":
		path, n, err := ipcBindPath(ip, port)
		if err != nil {
			return 0, err
		}
		return n, s.bindIPC(path)
	default:
		return 0, fmt.Errorf("bind: transport %q is not supported (use tcp or ipc)", transport)
	}
	host := ip
	if host == "" {
		host = "*"
	}
	p := "*"
	if port > 0 {
		p = strconv.Itoa(port)
	}
	if err := s.z.Bind("tcp://" + host + ":" + p); err != nil {
		return 0, fmt.Errorf("bind tcp://%s:%d: %w", ip, port, systemError(err))
	}
	ep, err := s.z.GetLastEndpoint()
	if err != nil {
		return 0, fmt.Errorf("bind tcp://%s:%d: %w", ip, port, err)
	}
	_, bound, err := net.SplitHostPort(strings.TrimPrefix(ep, "tcp://"))
	if err != nil {
		return 0, fmt.Errorf("bind: endpoint %s: %w", ep, err)
	}
	return strconv.Atoi(bound)
}

func (s *Socket) bindIPC(path string) error {
	if err := s.z.Bind("ipc://" + path); err != nil {
		return fmt.Errorf("bind ipc://%s: %w", path, systemError(err))
	}
	s.ipcFiles = append(s.ipcFiles, path)
	return nil
}

// Connect connects to an endpoint such as tcp://127.0.0.1:5555 or ipc:///tmp/sock, in the
// background: libzmq keeps dialling (and redialling after a disconnection) until the socket
// closes.
func (s *Socket) Connect(ep string) error {
	e, err := parseEndpoint(ep)
	if err != nil {
		return err
	}
	if e.transport == "tcp" && (e.port == "*" || e.port == "0") {
		return fmt.Errorf("connect %s: a port is needed", ep)
	}
	if err := s.z.Connect(ep); err != nil {
		return fmt.Errorf("connect %s: %w", ep, systemError(err))
	}
	return nil
}

// Send sends a multipart message: on a ROUTER the first frame names the peer; a DEALER
// takes turns among its peers (and keeps messages until one connects); a PUB sends to the
// peers subscribed to a prefix of the first frame. libzmq copies the frames.
func (s *Socket) Send(frames [][]byte) error {
	switch s.kind {
	case Router:
		if len(frames) < 2 {
			return errors.New("send: a ROUTER message needs a routing id and a body")
		}
	case Pub:
		if len(frames) == 0 {
			return nil
		}
	case Sub:
		return errors.New("send: not possible on a SUB socket")
	}
	last := len(frames) - 1
	for i, f := range frames {
		// Never block (as the pure-Go backend): at the send high-water mark libzmq then
		// refuses the first frame with EAGAIN; the rest of a message always follows it.
		flag := zmq.SNDMORE | zmq.DONTWAIT
		if i == last {
			flag = zmq.DONTWAIT
		}
		if _, err := s.z.SendBytes(f, flag); err != nil {
			switch zmq.AsErrno(err) {
			case zmq.Errno(syscall.EHOSTUNREACH):
				return ErrUnroutable
			case zmq.Errno(syscall.EAGAIN):
				return ErrFull
			}
			return s.closedOr(err)
		}
	}
	return nil
}

// Recv blocks for one multipart message.
func (s *Socket) Recv() ([][]byte, error) {
	frames, err := s.z.RecvMessageBytes(0)
	if err != nil {
		return nil, s.closedOr(err)
	}
	return frames, nil
}

// TryRecv returns the next message, or ok=false when none is waiting.
func (s *Socket) TryRecv() (frames [][]byte, ok bool, err error) {
	frames, err = s.z.RecvMessageBytes(zmq.DONTWAIT)
	if err != nil {
		if zmq.AsErrno(err) == zmq.Errno(syscall.EAGAIN) {
			return nil, false, nil
		}
		return nil, false, s.closedOr(err)
	}
	return frames, true, nil
}

// zmqErrnoBase is ZMQ_HAUSNUMERO: libzmq's own error numbers start there, below it they are
// the system's.
const zmqErrnoBase = 156384712

// systemError gives a system error number from libzmq as a syscall.Errno, so that callers
// can tell, say, EADDRINUSE with errors.Is as they do with the pure-Go backend's errors.
func systemError(err error) error {
	if e, ok := err.(zmq.Errno); ok && e < zmqErrnoBase {
		return syscall.Errno(e)
	}
	return err
}

// closedOr reports a closed socket or ended context as ErrClosed, as the pure-Go backend does.
func (s *Socket) closedOr(err error) error {
	switch {
	case s.closed, errors.Is(err, zmq.ErrorSocketClosed),
		zmq.AsErrno(err) == zmq.ETERM, zmq.AsErrno(err) == zmq.Errno(syscall.ENOTSOCK):
		return ErrClosed
	}
	return err
}

// Close closes the socket; libzmq keeps writing what it holds for the linger time
// (Context.Term waits for that).
func (s *Socket) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	for _, path := range s.ipcFiles {
		s.z.Unbind("ipc://" + path)
		os.Remove(path) // gone already if the unbind removed it
	}
	return s.z.Close()
}
