package remote_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/sshtest"
	"ipcluster/remote"

	"ipcluster/internal/testutil"
)

// echoServer answers every line with the same line, upper-cased, until the test ends.
func echoServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewScanner(c)
				for r.Scan() {
					fmt.Fprintln(c, strings.ToUpper(r.Text()))
				}
			}()
		}
	}()
	return l.Addr().String()
}

// roundTrip sends a line through addr and returns the answer.
func roundTrip(addr, line string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintln(c, line)
	r := bufio.NewScanner(c)
	if !r.Scan() {
		return "", fmt.Errorf("no answer through %s: %v", addr, r.Err())
	}
	return r.Text(), nil
}

func TestTunnelForwardsAndSurvivesRestart(t *testing.T) {
	s := sshtest.Start(t)
	p := s.StartPrivate(t, "ipp-tunnel", "LogLevel DEBUG1")
	ctx := ctxT(t)
	far := echoServer(t)
	tun, err := remote.OpenTunnel(ctx, remote.Options{ConfigFile: p.ConfigFile}, p.Alias, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tun.Close()
	local, err := tun.Forward(ctx, far)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(local, "one"); err != nil || got != "ONE" {
		t.Fatalf("through the tunnel: %q, %v", got, err)
	}
	_, farPort, _ := net.SplitHostPort(far)
	if !strings.Contains(p.Log(), "target 127.0.0.1 port "+farPort) {
		t.Errorf("sshd log shows no direct-tcpip channel to %s:\n%s", far, p.Log())
	}
	if again, _ := tun.Forward(ctx, far); again != local {
		t.Errorf("a second Forward of %s listens at %s, not %s", far, again, local)
	}

	// The server drops every connection: the next local connection dials SSH again.
	before := len(p.Log())
	p.Restart(t)
	var got string
	if !testutil.WithinEvery(10*time.Second, 100*time.Millisecond, func() bool {
		got, err = roundTrip(local, "two")
		return err == nil && got == "TWO"
	}) {
		t.Fatalf("no round trip within 10 s of the sshd restart: %q, %v", got, err)
	}
	if n := strings.Count(p.Log()[before:], "Accepted publickey"); n != 1 {
		t.Errorf("the restarted sshd accepted %d logins, want 1 (one SSH connection for every channel)", n)
	}

	tun.Close()
	if _, err := net.DialTimeout("tcp", local, time.Second); err == nil {
		t.Error("the local listener still accepts after Close")
	}
}

func TestTunnelErrors(t *testing.T) {
	s := sshtest.Start(t)
	ctx := ctxT(t)
	far := echoServer(t)

	t.Run("forwarding disabled", func(t *testing.T) {
		p := s.StartPrivate(t, "ipp-noforward", "AllowTcpForwarding no")
		tun, err := remote.OpenTunnel(ctx, remote.Options{ConfigFile: p.ConfigFile}, p.Alias, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tun.Close()
		_, err = tun.Forward(ctx, far)
		t.Log(err)
		if !errors.Is(err, remote.ErrForwardingRefused) || !strings.Contains(err.Error(), "AllowTcpForwarding") ||
			strings.Contains(err.Error(), "\n") {
			t.Errorf("want one line naming forwarding, got %v", err)
		}
	})
	t.Run("far port closed", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		closed := l.Addr().String()
		l.Close()
		tun, err := remote.OpenTunnel(ctx, remote.Options{ConfigFile: s.ConfigFile}, "ipp-sshd", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tun.Close()
		_, err = tun.Forward(ctx, closed)
		t.Log(err)
		if !errors.Is(err, remote.ErrPortClosed) || !strings.Contains(err.Error(), closed) {
			t.Errorf("want an error naming the closed far end %s, got %v", closed, err)
		}
	})
	t.Run("ssh refused", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		cfg := s.Config(t, s.HostBlock("ipp-down", s.Key, s.KnownHosts, port))
		_, err := remote.OpenTunnel(ctx, remote.Options{ConfigFile: cfg}, "ipp-down", nil)
		t.Log(err)
		if !errors.Is(err, remote.ErrUnreachable) || !strings.Contains(err.Error(), "ipp-down") {
			t.Errorf("want unreachable naming ipp-down, got %v", err)
		}
	})
	t.Run("host key unknown", func(t *testing.T) {
		cfg := s.Config(t, s.HostBlock("ipp-stranger", s.Key, s.UnknownHostsFile(t), s.Port))
		_, err := remote.OpenTunnel(ctx, remote.Options{ConfigFile: cfg}, "ipp-stranger", nil)
		t.Log(err)
		if !errors.Is(err, remote.ErrUnknownHostKey) || !strings.Contains(err.Error(), "ipp-stranger") ||
			!strings.Contains(err.Error(), "ssh-keyscan") {
			t.Errorf("want unknown host key naming the host and the fix, got %v", err)
		}
	})
}
