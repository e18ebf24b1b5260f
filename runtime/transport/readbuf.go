//go:build !libzmq

package transport

import (
	"io"
	"net"
	"sync"
	"syscall"
	"unsafe"
)

// connReader is a connection's buffered reader that holds a buffer only while it holds
// unread bytes: an idle connection waits for readability with no buffer, and the one it
// reads with comes from a pool shared by all connections. With thousands of idle engine
// connections on a controller, a buffer each would be most of its memory.
type connReader struct {
	rc   syscall.RawConn // nil: not a socket, read through conn
	conn net.Conn
	size int // the buffer to take: readBufferSmall or, for a busy peer, readBufferLarge
	bufp *[]byte
	r, w int // unread bytes are (*bufp)[r:w]

	// The netpoller callbacks and their results, made once: closures made per read would
	// allocate on every message.
	fillFn, directFn func(fd uintptr) bool
	direct           []byte // readDirect's target
	n                int
	errno            syscall.Errno
}

var readBuffers = map[int]*sync.Pool{
	readBufferSmall: {New: func() any { b := make([]byte, readBufferSmall); return &b }},
	readBufferLarge: {New: func() any { b := make([]byte, readBufferLarge); return &b }},
}

func newConnReader(conn net.Conn, size int) *connReader {
	c := &connReader{conn: conn, size: size}
	if sc, ok := conn.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc = rc
			c.fillFn, c.directFn = c.fillOnce, c.directOnce
		}
	}
	return c
}

// Size is the size of the buffer the reader reads with.
func (c *connReader) Size() int { return c.size }

// Buffered is how many bytes were read from the connection and not yet consumed.
func (c *connReader) Buffered() int { return c.w - c.r }

// grow makes the reader read with the large buffer from its next read on.
func (c *connReader) grow() { c.size = readBufferLarge }

// release gives the buffer back once everything in it has been consumed.
func (c *connReader) release() {
	if c.bufp != nil && c.r == c.w {
		readBuffers[len(*c.bufp)].Put(c.bufp)
		c.bufp, c.r, c.w = nil, 0, 0
	}
}

// fill reads what the connection has, waiting for at least one byte, into a buffer taken
// for it. It is called with nothing buffered, hence no buffer held (see release).
func (c *connReader) fill() error {
	if c.rc == nil {
		c.bufp = readBuffers[c.size].Get().(*[]byte)
		n, err := c.conn.Read(*c.bufp)
		c.w += n
		if n > 0 {
			return nil
		}
		c.release()
		if err == nil {
			err = io.ErrNoProgress // a reader may return 0, nil; ours must return a byte
		}
		return err
	}
	err := c.rc.Read(c.fillFn)
	n, errno := c.n, c.errno
	switch {
	case err == nil && errno == 0 && n > 0:
		c.w += n
		return nil
	case err != nil:
	case errno != 0:
		err = errno
	default:
		err = io.EOF
	}
	c.release()
	return err
}

// fillOnce reads into a buffer taken from the pool; when nothing is there it gives the
// buffer back and asks to wait for readability.
func (c *connReader) fillOnce(fd uintptr) bool {
	c.bufp = readBuffers[c.size].Get().(*[]byte)
	c.n, c.errno = rawRead(fd, *c.bufp)
	if c.errno == syscall.EAGAIN {
		readBuffers[len(*c.bufp)].Put(c.bufp)
		c.bufp = nil
		return false
	}
	return true
}

// Read reads into b what is buffered, or, when nothing is, what the connection has
// (straight into b when b is at least a buffer's size).
func (c *connReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if c.Buffered() == 0 {
		if len(b) >= c.size {
			return c.readDirect(b)
		}
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(b, (*c.bufp)[c.r:c.w])
	c.r += n
	c.release()
	return n, nil
}

// ReadByte reads one byte.
func (c *connReader) ReadByte() (byte, error) {
	if c.Buffered() == 0 {
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	b := (*c.bufp)[c.r]
	c.r++
	c.release()
	return b, nil
}

// readDirect reads into b without the buffer.
func (c *connReader) readDirect(b []byte) (int, error) {
	if c.rc == nil {
		return c.conn.Read(b)
	}
	c.direct = b
	err := c.rc.Read(c.directFn)
	c.direct = nil
	n, errno := c.n, c.errno
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, errno
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *connReader) directOnce(fd uintptr) bool {
	c.n, c.errno = rawRead(fd, c.direct)
	return c.errno != syscall.EAGAIN
}

// rawRead reads what the kernel has now; EAGAIN says it has nothing.
func rawRead(fd uintptr, b []byte) (int, syscall.Errno) {
	for {
		r1, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		if e != syscall.EINTR {
			return int(r1), e
		}
	}
}
