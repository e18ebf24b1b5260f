//go:build !libzmq

package transport

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// Reads and writes on a connection go straight to the kernel (RawSyscall) on the socket,
// which the netpoller keeps non-blocking: they never block, so the scheduler need not be
// told. Through the syscall package, every one of them would wake the runtime's monitor
// thread after each idle spell — several extra system calls per message for a process
// that, like an engine, idles between requests.

// rawReader reads from a connection, waiting in the netpoller (with its deadlines) only
// when nothing is there.
type rawReader struct {
	rc syscall.RawConn
}

func newReader(conn net.Conn) io.Reader {
	if sc, ok := conn.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			return rawReader{rc}
		}
	}
	return conn
}

func (r rawReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := r.rc.Read(func(fd uintptr) bool {
		for {
			r1, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait until readable
			}
			n, errno = int(r1), e
			return true
		}
	})
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

// rawWrite writes what the kernel takes now; it returns 0, nil when the socket is full.
func rawWrite(fd uintptr, b []byte) (int, error) {
	for {
		r1, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch e {
		case 0:
			return int(r1), nil
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, nil
		}
		return 0, e
	}
}
