package controller

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// BindError is a socket the controller could not bind: which one, where, and why, with what
// to do about it. Its message is one line, fit to be the controller's only output.
type BindError struct {
	Socket    string // the socket's role, e.g. "registration", "heartbeat ping"
	Transport string
	IP        string
	Port      int // as asked for; 0 means any free port
	Err       error
}

func (e *BindError) Unwrap() error { return e.Err }

func (e *BindError) Error() string {
	return fmt.Sprintf("cannot bind %s://%s:%d (%s): %s", e.Transport, e.IP, e.Port, e.Socket, e.cause())
}

// cause names the system's reason and the usual remedy for it.
func (e *BindError) cause() string {
	switch {
	case errors.Is(e.Err, syscall.EADDRNOTAVAIL):
		return "cannot assign requested address — the address is not on this host; use --ip=127.0.0.1 or '*'"
	case errors.Is(e.Err, syscall.EADDRINUSE):
		return "address already in use — another process holds this port; choose other --ports or leave them out to get free ones"
	case errors.Is(e.Err, syscall.EACCES), errors.Is(e.Err, syscall.EPERM):
		return "permission denied — ports below 1024 need privileges; choose ports above 1023"
	}
	var dns *net.DNSError
	if errors.As(e.Err, &dns) {
		return fmt.Sprintf("cannot resolve %q (%s) — give an address of this host, e.g. --ip=127.0.0.1 or '*'", dns.Name, dns.Err)
	}
	return innermost(e.Err).Error()
}

// innermost is the deepest wrapped error: the system's own words, without the layers of
// "listen tcp ...: bind:" that repeat the address.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
