package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// ErrUnreachable is returned when the TCP connection to a host (or a jump host) fails.
var ErrUnreachable = errors.New("host unreachable")

// maxSessions bounds the sessions open at once on one connection (sshd's MaxSessions is 10
// by default).
const maxSessions = 8

// Client is one SSH connection to a host; commands run on sessions multiplexed over it.
type Client struct {
	Target Target
	ssh    *ssh.Client
	jump   *Client // the jump host's connection, closed with this one
	slots  chan struct{}
	done   chan struct{}

	mu   sync.Mutex
	sftp *sftp.Client
}

// Dial connects to a host named as OpenSSH names it, within ctx and the connect timeout.
func Dial(ctx context.Context, o Options, name string) (*Client, error) {
	cs, err := loadConfigs(o)
	if err != nil {
		return nil, err
	}
	t, err := cs.resolve(o, name)
	if err != nil {
		return nil, err
	}
	return dialTarget(ctx, cs, o, t, 0)
}

func dialTarget(ctx context.Context, cs configs, o Options, t Target, depth int) (*Client, error) {
	if depth > 8 {
		return nil, fmt.Errorf("ssh %s: ProxyJump chain too long", t.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	var conn net.Conn
	var jump *Client
	if n := len(t.ProxyJump); n > 0 {
		jt, err := cs.resolve(o, t.ProxyJump[n-1])
		if err != nil {
			return nil, fmt.Errorf("ssh %s: ProxyJump: %w", t.Name, err)
		}
		jt.ProxyJump = t.ProxyJump[:n-1]
		if jump, err = dialTarget(ctx, cs, o, jt, depth+1); err != nil {
			return nil, fmt.Errorf("ssh %s: through jump host: %w", t.Name, err)
		}
		if conn, err = jump.ssh.DialContext(ctx, "tcp", t.Addr()); err != nil {
			jump.Close()
			return nil, fmt.Errorf("ssh %s: connect %s through %s: %w: %v", t.Name, t.Addr(), jt.Name, ErrUnreachable, err)
		}
	} else {
		var err error
		if conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", t.Addr()); err != nil {
			return nil, fmt.Errorf("ssh %s: connect %s: %w: %v (is sshd running there? check HostName and Port in the ssh config)",
				t.Name, t.Addr(), ErrUnreachable, err)
		}
	}
	fail := func(err error) (*Client, error) {
		conn.Close()
		if jump != nil {
			jump.Close()
		}
		return nil, err
	}
	var keyErr error
	check, algos, err := hostKeyCheck(t)
	if err != nil {
		return fail(fmt.Errorf("ssh %s: %w", t.Name, err))
	}
	auth, tried, closeAgent, err := authMethods(t)
	if err != nil {
		return fail(fmt.Errorf("ssh %s: %w", t.Name, err))
	}
	defer closeAgent()
	cfg := &ssh.ClientConfig{
		User: t.User, Auth: auth, HostKeyAlgorithms: algos, Timeout: t.Timeout,
		HostKeyCallback: func(h string, a net.Addr, k ssh.PublicKey) error {
			keyErr = check(h, a, k)
			return keyErr
		},
	}
	// The handshake is bounded by the deadline and by ctx.
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, t.Addr(), cfg)
	stopped := stop()
	if err != nil {
		switch {
		case keyErr != nil:
			err = keyErr
		case strings.Contains(err.Error(), "unable to authenticate"):
			err = fmt.Errorf("%w for user %s (offered %s): add the public key to ~%s/.ssh/authorized_keys on %s, "+
				"or name the right key with IdentityFile in the ssh config or load it into ssh-agent",
				ErrAuth, t.User, strings.Join(tried, ", "), t.User, t.HostName)
		case !stopped || ctx.Err() != nil:
			err = fmt.Errorf("handshake with %s timed out after %v: %w", t.Addr(), t.Timeout, err)
		default:
			err = fmt.Errorf("handshake with %s: %w", t.Addr(), err)
		}
		return fail(fmt.Errorf("ssh %s: %w", t.Name, err))
	}
	conn.SetDeadline(time.Time{})
	cl := &Client{Target: t, ssh: ssh.NewClient(c, chans, reqs), jump: jump, slots: make(chan struct{}, maxSessions), done: make(chan struct{})}
	go func() {
		cl.ssh.Wait()
		close(cl.done)
	}()
	go cl.keepAlive()
	return cl, nil
}

// keepAlive sends keepalive@openssh.com requests and closes the connection when AliveMax of
// them in a row go unanswered.
func (c *Client) keepAlive() {
	tick := time.NewTicker(c.Target.KeepAlive)
	defer tick.Stop()
	missed := 0
	for {
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := c.ssh.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case err := <-reply:
			if err == nil {
				missed = 0
				continue
			}
		case <-time.After(c.Target.KeepAlive):
		case <-c.done:
			return
		}
		if missed++; missed >= c.Target.AliveMax {
			c.Close()
			return
		}
	}
}

// Alive reports whether the connection is still open.
func (c *Client) Alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// Close closes the connection (and the jump host's).
func (c *Client) Close() error {
	c.mu.Lock()
	if c.sftp != nil {
		c.sftp.Close()
		c.sftp = nil
	}
	c.mu.Unlock()
	err := c.ssh.Close()
	if c.jump != nil {
		c.jump.Close()
	}
	return err
}

// Result is what a remote command did.
type Result struct {
	Stdout, Stderr []byte
	Code           int // exit status; -1 when the server sent none (killed by a signal)
}

// Run runs a command line (interpreted by the remote user's shell) on a new session, with
// stdin if not nil. A non-zero exit status is not an error: it is in Result.Code. When ctx
// ends first the session is closed.
func (c *Client) Run(ctx context.Context, command string, stdin io.Reader) (Result, error) {
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return Result{}, fmt.Errorf("ssh %s: waiting for a session: %w", c.Target.Name, context.Cause(ctx))
	case <-c.done:
		return Result{}, fmt.Errorf("ssh %s: connection closed", c.Target.Name)
	}
	s, err := c.ssh.NewSession()
	if err != nil {
		return Result{}, fmt.Errorf("ssh %s: open session: %w", c.Target.Name, err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr, s.Stdin = &out, &errb, stdin
	if err := s.Start(command); err != nil {
		return Result{}, fmt.Errorf("ssh %s: start command: %w", c.Target.Name, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- s.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		s.Signal(ssh.SIGKILL)
		s.Close()
		return Result{}, fmt.Errorf("ssh %s: command: %w", c.Target.Name, context.Cause(ctx))
	}
	r := Result{Stdout: out.Bytes(), Stderr: errb.Bytes()}
	var exit *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.Code = exit.ExitStatus()
	case errors.As(err, &missing):
		r.Code = -1
	default:
		return r, fmt.Errorf("ssh %s: command: %w", c.Target.Name, err)
	}
	return r, nil
}

// Output runs a command and returns its stdout; a non-zero status is an error carrying the
// command's stderr.
func (c *Client) Output(ctx context.Context, command string) ([]byte, error) {
	r, err := c.Run(ctx, command, nil)
	if err != nil {
		return nil, err
	}
	if r.Code != 0 {
		return r.Stdout, fmt.Errorf("ssh %s: exit status %d: %s", c.Target.Name, r.Code, strings.TrimSpace(string(r.Stderr)))
	}
	return r.Stdout, nil
}
