package remote_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/shellquote"
	"ipcluster/internal/sshtest"
	"ipcluster/remote"
)

func hostBlock(s sshtest.Server, alias, key, knownHosts string, port int, extra string) string {
	return s.HostBlock(alias, key, knownHosts, port) + extra + "\n"
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRunAndFiles(t *testing.T) {
	s := sshtest.Start(t)
	ctx := ctxT(t)
	pool := remote.NewPool(remote.Options{ConfigFile: s.ConfigFile})
	defer pool.Close()
	c, err := pool.Get(ctx, "ipp-host1")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := pool.Get(ctx, "ipp-host1"); again != c {
		t.Error("a second Get dialled a second connection")
	}
	r, err := c.Run(ctx, "id -un; echo oops >&2; exit 7", nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(r.Stdout)) != s.User || r.Code != 7 || strings.TrimSpace(string(r.Stderr)) != "oops" {
		t.Errorf("got %q %q code %d", r.Stdout, r.Stderr, r.Code)
	}
	local := filepath.Join(t.TempDir(), "f.json")
	os.WriteFile(local, []byte(`{"key": "secret"}`), 0o644)
	dir := fmt.Sprintf("remote-test-%d/security", time.Now().UnixNano())
	defer c.Run(ctx, "rm -rf "+shellquote.Quote(filepath.Dir(dir)), nil)
	if err := c.Put(ctx, local, dir+"/f.json", 0o600, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := c.Output(ctx, "stat -c '%a %U' "+shellquote.Quote(dir)+" "+shellquote.Quote(dir+"/f.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(out)); strings.Join(got, " ") != "700 "+s.User+" 600 "+s.User {
		t.Errorf("modes %q", out)
	}
	back := filepath.Join(t.TempDir(), "back.json")
	if err := c.Get(ctx, dir+"/f.json", back, 0o600); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(back); string(data) != `{"key": "secret"}` {
		t.Errorf("fetched %q", data)
	}
	if fi, _ := os.Stat(back); fi.Mode().Perm() != 0o600 {
		t.Errorf("fetched mode %v", fi.Mode())
	}
	// a command that outlives its context is cut off
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := c.Run(short, "sleep 10", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run past its deadline: %v", err)
	}
}

func TestForEachIsBounded(t *testing.T) {
	s := sshtest.Start(t)
	ctx := ctxT(t)
	pool := remote.NewPool(remote.Options{ConfigFile: s.ConfigFile})
	defer pool.Close()
	err := remote.ForEach(ctx, s.Aliases, 4, func(ctx context.Context, h string) error {
		c, err := pool.Get(ctx, h)
		if err != nil {
			return err
		}
		_, err = c.Output(ctx, "true")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestHostKeys(t *testing.T) {
	s := sshtest.Start(t)
	ctx := ctxT(t)
	empty := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(empty, nil, 0o600)
	changed := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(changed, []byte(fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFk4U3nYL2qSTf5fNbLgDVtt9x4K1hmO1qJpDY2yJ2fU\n", s.Port)), 0o600)
	cfg := s.Config(t, hostBlock(s, "ipp-unknown", s.Key, empty, s.Port, "")+hostBlock(s, "ipp-changed", s.Key, changed, s.Port, ""))
	_, err := remote.Dial(ctx, remote.Options{ConfigFile: cfg}, "ipp-unknown")
	if !errors.Is(err, remote.ErrUnknownHostKey) || !strings.Contains(err.Error(), "ipp-unknown") || !strings.Contains(err.Error(), "ssh-keyscan") {
		t.Errorf("unknown key: %v", err)
	}
	_, err = remote.Dial(ctx, remote.Options{ConfigFile: cfg}, "ipp-changed")
	if !errors.Is(err, remote.ErrHostKeyChanged) || !strings.Contains(err.Error(), "ssh-keygen -R") {
		t.Errorf("changed key: %v", err)
	}
	// accept-new: explicit only; the key is recorded and then checked
	c, err := remote.Dial(ctx, remote.Options{ConfigFile: cfg, AcceptNewHostKeys: true}, "ipp-unknown")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if data, _ := os.ReadFile(empty); !strings.Contains(string(data), fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 ", s.Port)) {
		t.Errorf("known_hosts after accept-new: %q", data)
	}
	c, err = remote.Dial(ctx, remote.Options{ConfigFile: cfg}, "ipp-unknown")
	if err != nil {
		t.Fatalf("after accept-new: %v", err)
	}
	c.Close()
	if _, err := remote.Dial(ctx, remote.Options{ConfigFile: cfg, AcceptNewHostKeys: true}, "ipp-changed"); !errors.Is(err, remote.ErrHostKeyChanged) {
		t.Errorf("accept-new took a changed key: %v", err)
	}
}

func TestFailuresAreFastAndClear(t *testing.T) {
	s := sshtest.Start(t)
	ctx := ctxT(t)
	cfg := s.Config(t, hostBlock(s, "ipp-refused", s.RefusedKey, s.KnownHosts, s.Port, "")+
		hostBlock(s, "ipp-closed", s.Key, s.KnownHosts, 1, ""))
	start := time.Now()
	_, err := remote.Dial(ctx, remote.Options{ConfigFile: cfg}, "ipp-refused")
	if !errors.Is(err, remote.ErrAuth) || !strings.Contains(err.Error(), "ipp-refused") || !strings.Contains(err.Error(), "authorized_keys") {
		t.Errorf("refused key: %v", err)
	}
	_, err = remote.Dial(ctx, remote.Options{ConfigFile: cfg}, "ipp-closed")
	if !errors.Is(err, remote.ErrUnreachable) || !strings.Contains(err.Error(), "ipp-closed") {
		t.Errorf("closed port: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failures took %v", d)
	}
}

func TestUserHostPortAndProxyJump(t *testing.T) {
	s := sshtest.Start(t)
	ctx := ctxT(t)
	cfg := s.Config(t, hostBlock(s, "ipp-jumped", s.Key, s.KnownHosts, s.Port, "  ProxyJump ipp-host1, root@ipp-host2"))
	for _, name := range []string{fmt.Sprintf("root@ipp-host3:%d", s.Port), "ipp-jumped"} {
		c, err := remote.Dial(ctx, remote.Options{ConfigFile: cfg}, name)
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.Output(ctx, "id -un")
		c.Close()
		want := map[bool]string{true: "root", false: s.User}[strings.HasPrefix(name, "root@")]
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%s: %q %v", name, out, err)
		}
	}
}
