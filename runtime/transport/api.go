package transport

import "errors"

// What both backends (pure-Go ZMTP, and libzmq with the libzmq build tag) declare alike.

// Kind is a ZeroMQ socket type.
type Kind int

// Socket kinds used by the protocol.
const (
	Router Kind = iota + 1
	Dealer
	Pub
	Sub
)

// ErrUnroutable is returned by Send on a mandatory ROUTER when the peer is not connected.
var ErrUnroutable = errors.New("peer not connected")

// ErrFull is returned by Send when the message cannot be queued without passing the send
// high-water mark (libzmq's EAGAIN): a mandatory ROUTER's peer, or every peer of a DEALER,
// holds that many unwritten messages.
var ErrFull = errors.New("send queue at its high-water mark")

// ErrClosed is returned by Recv on a closed socket.
var ErrClosed = errors.New("socket closed")

// Handler receives one multipart message from a socket of the loop.
type Handler func(frames [][]byte)
