//go:build !libzmq

package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ZMTP 3.0 (rfc.zeromq.org/spec/23) with the NULL security mechanism: what libzmq 4.x and
// therefore pyzmq speak. A connection starts with a 64-byte greeting from each side, then a
// READY command from each side carrying the socket type (and, for routing sockets, the
// identity); after that, messages travel as frames.

const greetingSize = 64

// Frame flag bits.
const (
	flagMore    = 0x01
	flagLong    = 0x02
	flagCommand = 0x04
)

// greeting is ours: signature, version 3.0, mechanism NULL, as-server 0, filler. We announce
// 3.0 so that a 3.1 peer (libzmq 4.3) sends subscriptions as messages, which every version
// understands; we accept 3.1's SUBSCRIBE/CANCEL commands as well.
var greeting = func() []byte {
	g := make([]byte, greetingSize)
	g[0], g[9] = 0xff, 0x7f
	g[10], g[11] = 3, 0
	copy(g[12:32], "NULL")
	return g
}()

// checkGreeting validates a peer's greeting.
func checkGreeting(g []byte) error {
	if g[0] != 0xff || g[9]&1 != 1 {
		return errors.New("not a ZMTP peer (bad signature)")
	}
	if g[10] < 3 {
		return fmt.Errorf("peer speaks ZMTP %d.%d; 3.0 or later is needed", g[10], g[11])
	}
	if mech := string(bytes.TrimRight(g[12:32], "\x00")); mech != "NULL" {
		return fmt.Errorf("peer wants security mechanism %s; only NULL is supported", mech)
	}
	return nil
}

// socketTypeNames are the Socket-Type property values of ZMTP.
var socketTypeNames = map[Kind]string{Router: "ROUTER", Dealer: "DEALER", Pub: "PUB", Sub: "SUB"}

// compatiblePeers says which peer socket types each kind may talk to (ZMTP 23, "socket
// semantics"); a mismatch is refused at the handshake, as libzmq does.
var compatiblePeers = map[Kind][]string{
	Router: {"DEALER", "REQ", "ROUTER"},
	Dealer: {"REP", "DEALER", "ROUTER"},
	Pub:    {"SUB", "XSUB"},
	Sub:    {"PUB", "XPUB"},
}

// appendReady appends our READY command.
func appendReady(b []byte, kind Kind, identity []byte) []byte {
	var body []byte
	body = append(body, 5)
	body = append(body, "READY"...)
	body = appendProperty(body, "Socket-Type", []byte(socketTypeNames[kind]))
	if kind == Router || kind == Dealer {
		body = appendProperty(body, "Identity", identity)
	}
	return appendFrame(b, body, flagCommand)
}

func appendProperty(b []byte, name string, value []byte) []byte {
	b = append(b, byte(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(value)))
	return append(b, value...)
}

// appendFrame appends one frame with the given flags (flagMore, flagCommand); the size form
// (short or long) is chosen here.
func appendFrame(b, body []byte, flags byte) []byte {
	if len(body) > 255 {
		b = append(b, flags|flagLong)
		b = binary.BigEndian.AppendUint64(b, uint64(len(body)))
	} else {
		b = append(b, flags, byte(len(body)))
	}
	return append(b, body...)
}

// appendSubscription appends a SUB's subscription to topic, in ZMTP 3.0's form (a message
// of 0x01 and the topic), which 3.1 peers accept too.
func appendSubscription(b, topic []byte) []byte {
	return appendFrame(b, append([]byte{1}, topic...), 0)
}

// appendMessage appends a multipart message.
func appendMessage(b []byte, frames [][]byte) []byte {
	for i, f := range frames {
		var flags byte
		if i < len(frames)-1 {
			flags = flagMore
		}
		b = appendFrame(b, f, flags)
	}
	return b
}

// command is a parsed ZMTP command frame.
type command struct {
	name  string
	body  []byte // after the name
	props map[string][]byte
}

func parseCommand(frame []byte) (command, error) {
	if len(frame) < 1 || len(frame) < 1+int(frame[0]) {
		return command{}, errors.New("malformed command frame")
	}
	n := int(frame[0])
	return command{name: string(frame[1 : 1+n]), body: frame[1+n:]}, nil
}

// parseProperties reads a READY command's metadata.
func parseProperties(b []byte) (map[string][]byte, error) {
	props := map[string][]byte{}
	for len(b) > 0 {
		n := int(b[0])
		if len(b) < 1+n+4 {
			return nil, errors.New("malformed READY metadata")
		}
		name := string(b[1 : 1+n])
		b = b[1+n:]
		size := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(len(b)) < uint64(size) {
			return nil, errors.New("malformed READY metadata")
		}
		props[name] = b[:size]
		b = b[size:]
	}
	return props, nil
}

// maxEagerAlloc bounds what a frame's announced size may make us allocate before its bytes
// arrive: a peer announcing a huge frame cannot exhaust memory without sending it.
const maxEagerAlloc = 1 << 20

// errFrameTooLarge reports a frame over the receiving socket's maximum message size.
var errFrameTooLarge = errors.New("frame exceeds the maximum message size")

// readFrame reads one frame: its flags and body. A frame announcing more than limit bytes
// (limit < 0: no limit) is refused before any of its body is read.
func readFrame(r *connReader, limit int64) (flags byte, body []byte, err error) {
	if flags, err = r.ReadByte(); err != nil {
		return 0, nil, err
	}
	var size uint64
	if flags&flagLong != 0 {
		var b [8]byte
		if _, err = io.ReadFull(r, b[:]); err != nil {
			return 0, nil, unexpected(err)
		}
		size = binary.BigEndian.Uint64(b[:])
		if size > 1<<62 {
			return 0, nil, fmt.Errorf("frame size %d is not plausible", size)
		}
	} else {
		s, err := r.ReadByte()
		if err != nil {
			return 0, nil, unexpected(err)
		}
		size = uint64(s)
	}
	if limit >= 0 && size > uint64(limit) {
		return 0, nil, fmt.Errorf("%w (%d bytes announced, at most %d accepted)", errFrameTooLarge, size, limit)
	}
	if size <= maxEagerAlloc {
		body = make([]byte, size)
		if _, err = io.ReadFull(r, body); err != nil {
			return 0, nil, unexpected(err)
		}
		return flags, body, nil
	}
	var buf bytes.Buffer
	if n, err := io.CopyN(&buf, r, int64(size)); err != nil {
		return 0, nil, fmt.Errorf("frame of %d bytes cut after %d: %w", size, n, unexpected(err))
	}
	return flags, buf.Bytes(), nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
