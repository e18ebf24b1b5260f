package transport

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

// ipc:// on both backends: ipyparallel's endpoint form "ipc://<prefix>:<n>", a unix-domain
// socket file that goes away with the socket, and libzmq (pyzmq) on the other side.

func TestIPCRouterDealerRoundTripAndFileRemovedOnClose(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "sock")
	zctx, _ := NewContext()
	router, err := zctx.NewSocket(Router)
	if err != nil {
		t.Fatal(err)
	}
	n, err := router.Bind("ipc", prefix, 0)
	if err != nil {
		t.Fatal(err)
	}
	file := prefix + ":" + "1"
	if n != 1 {
		t.Fatalf("first free ipc number = %d, want 1", n)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("no socket file %s: %v", file, err)
	}
	dealer := newTestSocket(t, Dealer)
	dealer.SetIdentity([]byte("d1"))
	if err := dealer.Connect("ipc://" + file); err != nil {
		t.Fatal(err)
	}
	dealer.Send([][]byte{[]byte("ping")})
	msg := recvWithin(t, router, 5*time.Second)
	if string(msg[0]) != "d1" || string(msg[1]) != "ping" {
		t.Fatalf("router got %q", msg)
	}
	router.Send([][]byte{msg[0], []byte("pong")})
	if reply := recvWithin(t, dealer, 5*time.Second); string(reply[0]) != "pong" {
		t.Fatalf("dealer got %q", reply)
	}
	n2, err := newTestSocket(t, Router).Bind("ipc", prefix, 0) // the next free number
	if err != nil || n2 != 2 {
		t.Fatalf("second bind: %d, %v (want 2)", n2, err)
	}
	router.Close()
	zctx.Term()
	testutil.Eventually(t, 5*time.Second, "the socket file to go after close", func() bool {
		_, err := os.Stat(file)
		return errors.Is(err, os.ErrNotExist)
	})
}

func TestIPCPubSub(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "pub")
	pub := newTestSocket(t, Pub)
	n, err := pub.Bind("ipc", prefix, 7)
	if err != nil || n != 7 {
		t.Fatalf("bind: %d, %v", n, err)
	}
	sub := newTestSocket(t, Sub)
	sub.Subscribe("")
	if err := sub.Connect("ipc://" + prefix + ":7"); err != nil {
		t.Fatal(err)
	}
	var msg [][]byte
	testutil.Eventually(t, 5*time.Second, "a message over ipc", func() bool {
		pub.Send([][]byte{[]byte("topic"), []byte("hello")}) // until the subscription has arrived
		var ok bool
		msg, ok, _ = sub.TryRecv()
		return ok
	})
	if string(msg[1]) != "hello" {
		t.Fatalf("got %q", msg)
	}
}

func TestLibzmqDealerToOurRouterOverIPC(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "ctl")
	router := newTestSocket(t, Router)
	router.SetMandatory()
	n, err := router.Bind("ipc", prefix, 0)
	if err != nil {
		t.Fatal(err)
	}
	peer, _ := startPeer(t, "dealer", "ipc://"+ipcPath(prefix, n))
	msg := recvWithin(t, router, 10*time.Second)
	if string(msg[0]) != "py-dealer" || len(msg) != 4 || len(msg[3]) != 2<<20 {
		t.Fatalf("got %d frames, identity %q", len(msg), msg[0])
	}
	if err := router.Send(msg); err != nil {
		t.Fatal(err)
	}
	peer.expect(t, "ok")
}

func TestIPCEndpointErrors(t *testing.T) {
	s := newTestSocket(t, Router)
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"no prefix", func() error { _, err := s.Bind("ipc", "", 0); return err }, "no path prefix"},
		{"too long", func() error { _, err := s.Bind("ipc", "/tmp/"+strings.Repeat("x", 120), 1); return err }, "longer than"},
		{"unknown transport", func() error { _, err := s.Bind("inproc", "x", 1); return err }, "use tcp or ipc"},
		{"empty ipc endpoint", func() error { return s.Connect("ipc://") }, "no socket file path"},
		{"unknown scheme", func() error { return s.Connect("udp://1.2.3.4:5") }, "tcp:// and ipc://"},
	}
	for _, c := range cases {
		if err := c.err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to say %q", c.name, err, c.want)
		}
	}
}
