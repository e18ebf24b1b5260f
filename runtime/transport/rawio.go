//go:build !libzmq

package transport

import (
	"syscall"
	"unsafe"
)

// Reads and writes on a connection go straight to the kernel (RawSyscall) on the socket,
// which the netpoller keeps non-blocking: they never block, so the scheduler need not be
// told. Through the syscall package, every one of them would wake the runtime's monitor
// thread after each idle spell — several extra system calls per message for a process
// that, like an engine, idles between requests.

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
