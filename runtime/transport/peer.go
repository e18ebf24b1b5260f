//go:build !libzmq

package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A connection reads through a small buffer until its peer sends in bursts (a message
// boundary with more bytes already read, burstsToGrow times), then through a large one,
// which saves read calls. Buffers are pooled and held only while they hold unread bytes
// (connReader), so the size matters for connections busy at once: one burst is not
// enough, as in a registration storm nearly every engine's heartbeat connection sees two
// echoes queued once.
const (
	readBufferSmall = 4 << 10
	readBufferLarge = 64 << 10
	burstsToGrow    = 32
)

// maxHandshakeFrame bounds the READY command: its metadata is a few properties.
const maxHandshakeFrame = 1 << 20

// peer is one ZMTP connection of a socket. A reader goroutine parses incoming messages and
// hands them to the socket; outgoing messages are appended to wbuf by the socket's owner
// and written with a non-blocking write, and what the kernel does not take at once is
// written by a writer goroutine started for it (ending when wbuf is drained), so that the
// owner never blocks on a slow peer and an idle connection has one goroutine, not two.
type peer struct {
	sock     *Socket
	conn     net.Conn
	raw      syscall.RawConn
	r        *connReader
	identity []byte   // routing id (ROUTER sockets)
	subs     [][]byte // the peer's subscriptions (PUB sockets), under sock.mu

	wmu     sync.Mutex
	wbuf    []byte                // encoded messages not yet written
	queued  int                   // messages in wbuf and in the writer's hands (for the send high-water mark)
	inHand  int                   // of which the writer is writing this many
	spare   []byte                // a drained buffer kept for reuse
	writeFn func(fd uintptr) bool // tryWrite's callback (made once: a closure per write allocates)
	wn      int                   // and its result
	werr    error
	writing bool // a writer goroutine is draining wbuf
	ended   bool // the reader ended: no writer may start (under wmu)
	writers sync.WaitGroup
	closing atomic.Bool // the socket is closing: drain wbuf, then close
	dirty   bool        // on the loop's flush list (loop goroutine only)

	unread atomic.Int64  // messages delivered to the socket and not yet read by its owner
	room   chan struct{} // signalled when unread falls below the receive high-water mark

	done     chan struct{}
	doneOnce sync.Once
	bursts   int // reads that ended with more bytes buffered (reader goroutine only)
}

// handshake exchanges greetings and READY commands on a new connection.
func (s *Socket) handshake(conn net.Conn) (*peer, error) {
	conn.SetDeadline(s.ctx.handshakeDeadline())
	s.mu.Lock()
	out := appendReady(slices.Clone(greeting), s.kind, s.identity)
	s.mu.Unlock()
	if _, err := conn.Write(out); err != nil {
		return nil, err
	}
	r := newConnReader(conn, readBufferSmall)
	g := make([]byte, greetingSize)
	if _, err := io.ReadFull(r, g); err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if err := checkGreeting(g); err != nil {
		return nil, err
	}
	flags, body, err := readFrame(r, maxHandshakeFrame)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	cmd, err := parseCommand(body)
	if err != nil || flags&flagCommand == 0 {
		return nil, errors.New("handshake: expected a READY command")
	}
	if cmd.name == "ERROR" {
		return nil, fmt.Errorf("peer refused the connection: %q", cmd.body)
	}
	if cmd.name != "READY" {
		return nil, fmt.Errorf("handshake: expected READY, got %q", cmd.name)
	}
	props, err := parseProperties(cmd.body)
	if err != nil {
		return nil, err
	}
	if t := string(props["Socket-Type"]); !slices.Contains(compatiblePeers[s.kind], t) {
		return nil, fmt.Errorf("a %s socket cannot talk to a %q peer", socketTypeNames[s.kind], t)
	}
	conn.SetDeadline(time.Time{})
	p := &peer{sock: s, conn: conn, r: r, room: make(chan struct{}, 1), done: make(chan struct{})}
	if sc, ok := conn.(syscall.Conn); ok {
		if p.raw, err = sc.SyscallConn(); err != nil {
			return nil, err
		}
		p.writeFn = p.writeOnce
	}
	if s.kind == Router {
		p.identity = slices.Clone(props["Identity"])
		if len(p.identity) == 0 {
			p.identity = s.ctx.newRoutingID()
		}
	}
	return p, nil
}

// run serves an attached peer until its connection ends; it returns when the reader and
// any writer have stopped.
func (p *peer) run() {
	defer func() {
		p.wmu.Lock()
		p.ended = true
		p.wmu.Unlock()
		p.writers.Wait()
	}()
	var msg [][]byte
	for {
		flags, body, err := readFrame(p.r, p.sock.maxMsgSize.Load())
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.ECONNRESET) {
				p.sock.ctx.warnConnection("ZeroMQ connection dropped", "socket", socketTypeNames[p.sock.kind],
					"peer", p.conn.RemoteAddr().String(), "err", err)
			}
			p.end()
			return
		}
		if flags&flagCommand != 0 {
			if !p.onCommand(body) {
				p.end()
				return
			}
			continue
		}
		msg = append(msg, body)
		if flags&flagMore == 0 {
			p.sock.deliver(p, msg)
			msg = nil
			if !p.waitForRoom() {
				return
			}
			if p.r.Buffered() > 0 && p.r.Size() < readBufferLarge {
				if p.bursts++; p.bursts >= burstsToGrow {
					p.r.grow()
				}
			}
		}
	}
}

// waitForRoom holds the reader while the owner has the receive high-water mark's count of
// this connection's messages unread: the kernel's buffers fill and TCP slows the sender.
// It returns false when the connection or the socket ends meanwhile.
func (p *peer) waitForRoom() bool {
	for {
		hwm := p.sock.recvHWM.Load()
		if hwm <= 0 || p.unread.Load() < hwm {
			return true
		}
		select {
		case <-p.room:
		case <-p.done:
			return false
		case <-p.sock.closeCtx.Done():
			p.end()
			return false
		}
	}
}

// read counts n of the peer's messages as read by the owner, and wakes the reader when
// that makes room under the receive high-water mark hwm.
func (p *peer) read(n int, hwm int64) {
	if left := p.unread.Add(int64(-n)); hwm > 0 && left < hwm {
		select {
		case p.room <- struct{}{}:
		default:
		}
	}
}

// onCommand handles a command after the handshake; false ends the connection.
func (p *peer) onCommand(frame []byte) bool {
	cmd, err := parseCommand(frame)
	if err != nil {
		return false
	}
	switch cmd.name {
	case "PING": // ZMTP 3.1 heartbeat: answer with the context it carries
		if len(cmd.body) >= 2 {
			pong := append([]byte{4}, "PONG"...)
			p.queue(func(b []byte) []byte { return appendFrame(b, append(pong, cmd.body[2:]...), flagCommand) })
			p.flush()
		}
	case "SUBSCRIBE", "CANCEL": // ZMTP 3.1 subscriptions
		if p.sock.kind == Pub {
			p.sock.subscription(p, cmd.name == "SUBSCRIBE", cmd.body)
		}
	case "ERROR":
		return false
	}
	return true
}

// queue appends encoded bytes (a command) to the peer's output.
func (p *peer) queue(encode func([]byte) []byte) {
	p.wmu.Lock()
	p.wbuf = encode(p.wbuf)
	p.wmu.Unlock()
}

// queueMessage appends an encoded message to the peer's output unless hwm (> 0) messages
// are already waiting to be written; it says whether it did.
func (p *peer) queueMessage(hwm int, encode func([]byte) []byte) bool {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if hwm > 0 && p.queued >= hwm {
		return false
	}
	p.wbuf = encode(p.wbuf)
	p.queued++
	return true
}

// flush writes what the kernel takes now and leaves the rest to the writer goroutine.
func (p *peer) flush() {
	p.wmu.Lock()
	if p.writing || len(p.wbuf) == 0 {
		p.wmu.Unlock()
		return
	}
	n, err := p.tryWrite()
	switch {
	case err != nil:
		p.wbuf, p.queued = p.wbuf[:0], 0
	case n == len(p.wbuf):
		p.wbuf, p.queued = p.wbuf[:0], 0
	default:
		p.wbuf = p.wbuf[:copy(p.wbuf, p.wbuf[n:])]
		p.startWriter()
	}
	p.wmu.Unlock()
	if err != nil {
		p.end()
	}
}

// startWriter starts a writer goroutine for what wbuf holds (under wmu, none running).
// Once the reader has ended the connection is closed and there is nothing to write.
func (p *peer) startWriter() {
	if p.ended {
		p.wbuf, p.queued = p.wbuf[:0], 0
		return
	}
	p.writing = true
	p.writers.Add(1)
	go func() {
		defer p.writers.Done()
		p.writer()
	}()
}

// tryWrite writes wbuf without waiting (under wmu): it returns how much the kernel took.
func (p *peer) tryWrite() (int, error) {
	if p.raw == nil {
		return 0, nil // not a socket: the writer goroutine does it
	}
	err := p.raw.Write(p.writeFn)
	if err != nil {
		return 0, err
	}
	return p.wn, p.werr
}

// writeOnce is tryWrite's callback: it writes wbuf (tryWrite runs under wmu).
func (p *peer) writeOnce(fd uintptr) bool {
	p.wn, p.werr = rawWrite(fd, p.wbuf)
	return true
}

// writer drains wbuf with blocking writes when flush could not, and ends when it is
// empty; once the socket is closing, it writes what is left (within the linger deadline)
// and closes the connection.
func (p *peer) writer() {
	for {
		p.wmu.Lock()
		if len(p.wbuf) == 0 {
			p.writing = false
			closing := p.closing.Load()
			p.wmu.Unlock()
			if closing {
				p.end()
			}
			return
		}
		buf := p.wbuf
		p.wbuf, p.spare = p.spare[:0], nil
		p.inHand = p.queued // a partly written message counts until it is all written
		p.wmu.Unlock()
		if _, err := p.conn.Write(buf); err != nil {
			p.end()
			return
		}
		p.wmu.Lock()
		p.queued -= p.inHand
		p.inHand = 0
		if cap(buf) <= 1<<20 {
			p.spare = buf[:0]
		}
		p.wmu.Unlock()
	}
}

// linger makes the peer write what it holds until deadline, then close.
func (p *peer) linger(deadline time.Time) {
	p.conn.SetWriteDeadline(deadline)
	p.closing.Store(true)
	p.wmu.Lock()
	if !p.writing {
		p.startWriter()
	}
	ended := p.ended
	p.wmu.Unlock()
	if ended {
		p.end()
	}
}

// end closes the connection (once) and detaches the peer from its socket.
func (p *peer) end() {
	p.doneOnce.Do(func() {
		close(p.done)
		p.conn.Close()
		p.sock.detach(p)
	})
}

// matches says whether a PUB peer subscribed to a prefix of topic.
func (p *peer) matches(topic []byte) bool { return subscribed(p.subs, topic) }

// subscribed says whether one of subs is a prefix of topic (ZeroMQ's topic matching).
func subscribed(subs [][]byte, topic []byte) bool {
	for _, s := range subs {
		if bytes.HasPrefix(topic, s) {
			return true
		}
	}
	return false
}
