package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Tunnel errors (besides Dial's ErrUnreachable, ErrAuth and ErrUnknownHostKey).
var (
	// ErrForwardingRefused: the SSH server does not open direct-tcpip channels
	// (AllowTcpForwarding no in its sshd_config).
	ErrForwardingRefused = errors.New("TCP forwarding refused by the ssh server")
	// ErrPortClosed: the SSH server could not connect to the far end (nothing listens there).
	ErrPortClosed = errors.New("nothing listens at the far end of the tunnel")
)

// redialPause is how long a failed SSH dial is remembered: connections accepted meanwhile
// are closed at once, so that sockets redialling every 100 ms do not each start an SSH
// handshake against a server that is down.
const redialPause = time.Second

// Tunnel carries TCP connections to addresses as one SSH server sees them, like
// `ssh -L 127.0.0.1:PORT:HOST:HOSTPORT server`: every Forward opens a listener on a free
// loopback port whose accepted connections become direct-tcpip channels, all over ONE SSH
// connection to the server. When that connection drops, the next accepted connection dials
// it again (the sockets behind the listeners redial by themselves).
type Tunnel struct {
	server string
	pool   *Pool
	log    *slog.Logger

	mu        sync.Mutex
	forwards  map[string]net.Listener // by far address
	conns     map[net.Conn]struct{}   // proxied local connections, closed by Close
	last      *Client                 // the SSH connection in use, to log when it changes
	failUntil time.Time               // redial pause after a failed dial
	failErr   error
	logged    string // the last failure logged, so that a repeated one is not
	closed    bool
	wg        sync.WaitGroup
}

// OpenTunnel connects to the SSH server (named as OpenSSH names it: alias, user@host:port)
// now, so that a refused connection or an unknown host key is reported before any socket
// uses the tunnel. log may be nil.
func OpenTunnel(ctx context.Context, o Options, server string, log *slog.Logger) (*Tunnel, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Tunnel{server: server, pool: NewPool(o), log: log.With("ssh", server),
		forwards: map[string]net.Listener{}, conns: map[net.Conn]struct{}{}}
	c, err := t.pool.Get(ctx, server)
	if err != nil {
		return nil, fmt.Errorf("ssh tunnel: %w", err)
	}
	t.last = c
	return t, nil
}

// Server is the SSH server's name as given.
func (t *Tunnel) Server() string { return t.server }

// Forward makes far (host:port as the SSH server sees it) reachable at the returned
// 127.0.0.1 address. It first opens and closes one channel to far, so that a server that
// refuses forwarding, or a far port nobody listens on, is reported now, in one line.
func (t *Tunnel) Forward(ctx context.Context, far string) (string, error) {
	t.mu.Lock()
	if l, ok := t.forwards[far]; ok {
		t.mu.Unlock()
		return l.Addr().String(), nil
	}
	t.mu.Unlock()
	probe, err := t.dialFar(ctx, far)
	if err != nil {
		return "", err
	}
	probe.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("ssh tunnel to %s through %s: local listener: %w", far, t.server, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		l.Close()
		return "", fmt.Errorf("ssh tunnel through %s: closed", t.server)
	}
	if old, ok := t.forwards[far]; ok { // a concurrent Forward won
		l.Close()
		return old.Addr().String(), nil
	}
	t.forwards[far] = l
	t.wg.Add(1)
	go t.serve(l, far)
	t.log.Debug("forwarding", "local", l.Addr().String(), "far", far)
	return l.Addr().String(), nil
}

// ForwardURL is Forward for a ZeroMQ endpoint: tcp://host:port becomes
// tcp://127.0.0.1:localport. Other transports cannot go through SSH.
func (t *Tunnel) ForwardURL(ctx context.Context, url string) (string, error) {
	scheme, far, ok := strings.Cut(url, "://")
	if !ok || scheme != "tcp" {
		return "", fmt.Errorf("ssh tunnel through %s: cannot forward %s: only tcp:// endpoints go through ssh", t.server, url)
	}
	local, err := t.Forward(ctx, far)
	if err != nil {
		return "", err
	}
	return "tcp://" + local, nil
}

// Close stops every listener, closes the forwarded connections and the SSH connection.
func (t *Tunnel) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	for _, l := range t.forwards {
		l.Close()
	}
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
	t.pool.Close()
	return nil
}

// serve accepts local connections until the listener is closed.
func (t *Tunnel) serve(l net.Listener, far string) {
	defer t.wg.Done()
	for {
		local, err := l.Accept()
		if err != nil {
			return
		}
		if !t.track(local) {
			local.Close()
			return
		}
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			defer t.untrack(local)
			remote, err := t.dialFar(context.Background(), far)
			if err != nil {
				t.logFailure(err)
				return
			}
			t.mu.Lock()
			t.logged = "" // working again: log the next failure
			t.mu.Unlock()
			t.track(remote)
			defer t.untrack(remote)
			pipe(local, remote)
		}()
	}
}

// dialFar opens a direct-tcpip channel to far on the SSH connection, dialling that again
// if it dropped (at most once per redialPause after a failure).
func (t *Tunnel) dialFar(ctx context.Context, far string) (net.Conn, error) {
	t.mu.Lock()
	if time.Now().Before(t.failUntil) {
		err := t.failErr
		t.mu.Unlock()
		return nil, err
	}
	t.mu.Unlock()
	c, err := t.pool.Get(ctx, t.server)
	if err != nil {
		err = fmt.Errorf("ssh tunnel: %w", err)
		t.mu.Lock()
		t.failUntil, t.failErr = time.Now().Add(redialPause), err
		t.mu.Unlock()
		return nil, err
	}
	t.mu.Lock()
	if t.last != c {
		if t.last != nil {
			t.log.Info("ssh connection re-established")
		}
		t.last = c
	}
	t.failErr = nil
	t.mu.Unlock()
	conn, err := c.ssh.DialContext(ctx, "tcp", far)
	if err != nil {
		return nil, channelError(t.server, far, err)
	}
	return conn, nil
}

// channelError names why the server would not open a channel to far.
func channelError(server, far string, err error) error {
	var oce *ssh.OpenChannelError
	if errors.As(err, &oce) {
		switch oce.Reason {
		case ssh.Prohibited:
			return fmt.Errorf("%w: %s will not forward to %s (%q): allow it with AllowTcpForwarding yes in its sshd_config, or connect without an ssh tunnel",
				ErrForwardingRefused, server, far, oce.Message)
		case ssh.ConnectionFailed:
			return fmt.Errorf("%w: %s could not connect to %s (%q): is the controller running, and does the connection file's interface or location name an address that %s can reach?",
				ErrPortClosed, server, far, oce.Message, server)
		}
	}
	return fmt.Errorf("ssh tunnel to %s through %s: %w", far, server, err)
}

// logFailure logs a failed forwarded connection once per distinct error (sockets redial
// every 100 ms: one line per attempt would flood the log) and pauses further attempts.
func (t *Tunnel) logFailure(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if msg := err.Error(); msg != t.logged {
		t.log.Warn("forwarded connection failed", "err", err)
		t.logged = msg
	}
	t.failUntil, t.failErr = time.Now().Add(redialPause), err
}

func (t *Tunnel) track(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *Tunnel) untrack(c net.Conn) {
	c.Close()
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// pipe copies both ways until either side ends, then closes both.
func pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	a.Close()
	b.Close()
	<-done
}
