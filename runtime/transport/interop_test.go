package transport

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

// The real libzmq (through pyzmq, which the Python ipyparallel uses) is the other side of
// these tests: every socket pattern the protocol uses, in both directions.

const python = "/usr/bin/python3" // Debian's, with python3-zmq; the python3 on PATH may lack it

// libzmqPeer runs testdata/zmqpeer.py for a scenario and returns its stdout lines.
type libzmqPeer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	out   bytes.Buffer
}

func startPeer(t *testing.T, scenario, endpoint string) (*libzmqPeer, []string) {
	t.Helper()
	if err := exec.Command(python, "-c", "import zmq").Run(); err != nil {
		t.Fatalf("%s cannot import zmq (install python3-zmq: make deps): %v", python, err)
	}
	p := &libzmqPeer{cmd: exec.Command(python, "testdata/zmqpeer.py", scenario, endpoint), lines: make(chan string, 16)}
	p.cmd.Stderr = &p.out
	stdout, _ := p.cmd.StdoutPipe()
	p.stdin, _ = p.cmd.StdinPipe()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	ready := p.expect(t, "ready")
	return p, strings.Fields(ready)[1:]
}

// expect waits for a line starting with want.
func (p *libzmqPeer) expect(t *testing.T, want string) string {
	t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok || !strings.HasPrefix(line, want) {
			p.cmd.Wait()
			t.Fatalf("libzmq peer: got %q, want %q; stderr:\n%s", line, want, p.out.String())
		}
		return line
	case <-time.After(15 * time.Second):
		t.Fatalf("libzmq peer: no %q within 15 s; stderr:\n%s", want, p.out.String())
	}
	return ""
}

// recvWithin waits up to d for a message on s.
func recvWithin(t *testing.T, s *Socket, d time.Duration) [][]byte {
	t.Helper()
	var msg [][]byte
	testutil.Eventually(t, d, "a message", func() bool {
		var ok bool
		msg, ok, _ = s.TryRecv()
		return ok
	})
	return msg
}

func newTestSocket(t *testing.T, kind Kind) *Socket {
	t.Helper()
	zctx, _ := NewContext()
	s, err := zctx.NewSocket(kind)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); zctx.Term() })
	return s
}

func TestLibzmqDealerToOurRouter(t *testing.T) {
	router := newTestSocket(t, Router)
	router.SetMandatory()
	port, err := router.Bind("tcp", "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	peer, _ := startPeer(t, "dealer", fmt.Sprintf("tcp://127.0.0.1:%d", port))
	msg := recvWithin(t, router, 10*time.Second)
	if string(msg[0]) != "py-dealer" || len(msg) != 4 || len(msg[2]) != 300 || len(msg[3]) != 2<<20 {
		t.Fatalf("got %d frames, identity %q", len(msg), msg[0])
	}
	if err := router.Send(msg); err != nil { // echo, routed by the identity frame
		t.Fatal(err)
	}
	peer.expect(t, "ok")
}

func TestOurRouterConnectsToLibzmqRouter(t *testing.T) {
	router := newTestSocket(t, Router)
	router.SetIdentity([]byte("go-router"))
	router.SetMandatory()
	peer, args := startPeer(t, "router", "")
	if err := router.Connect("tcp://127.0.0.1:" + args[0]); err != nil {
		t.Fatal(err)
	}
	var err error
	if !testutil.Within(10*time.Second, func() bool { // routable once the handshake told us the peer's identity
		err = router.Send([][]byte{[]byte("py-router"), []byte("hi")})
		return err != ErrUnroutable
	}) || err != nil {
		t.Fatalf("send: %v", err)
	}
	msg := recvWithin(t, router, 10*time.Second)
	if want := "py-router|reply|hi"; string(bytes.Join(msg, []byte("|"))) != want {
		t.Fatalf("got %q, want %s", msg, want)
	}
	peer.expect(t, "ok")
}

func TestOurPubFiltersForLibzmqSub(t *testing.T) {
	pub := newTestSocket(t, Pub)
	port, err := pub.Bind("tcp", "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	peer, _ := startPeer(t, "sub", fmt.Sprintf("tcp://127.0.0.1:%d", port))
	deadline := time.After(15 * time.Second)
	for { // publish until the subscriber has had its three; "b" must never reach it
		pub.Send([][]byte{[]byte("b.topic"), []byte("not for you")})
		pub.Send([][]byte{[]byte("a.topic"), []byte("for you")})
		select {
		case line := <-peer.lines:
			if line != "ok" {
				t.Fatalf("libzmq peer: %q; stderr:\n%s", line, peer.out.String())
			}
			return
		case <-deadline:
			t.Fatal("the libzmq subscriber did not get its messages")
		case <-time.After(time.Millisecond):
		}
	}
}

func TestOurBoundSubReceivesFromLibzmqPub(t *testing.T) {
	sub := newTestSocket(t, Sub)
	sub.Subscribe("")
	port, err := sub.Bind("tcp", "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	peer, _ := startPeer(t, "pub", fmt.Sprintf("tcp://127.0.0.1:%d", port))
	msg := recvWithin(t, sub, 10*time.Second)
	if string(msg[0]) != "engine.0.stream" || string(msg[1]) != "data" {
		t.Fatalf("got %q", msg)
	}
	fmt.Fprintln(peer.stdin)
	peer.expect(t, "ok")
}

func TestDealerQueuesUntilLibzmqRouterBinds(t *testing.T) {
	// Find a free port, then free it for the late peer. (Not with a socket of ours: libzmq
	// closes a listener in the background, and the dealer could connect to it meanwhile.)
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	ep := fmt.Sprintf("tcp://127.0.0.1:%d", port)

	dealer := newTestSocket(t, Dealer)
	if err := dealer.Connect(ep); err != nil {
		t.Fatal(err)
	}
	if err := dealer.Send([][]byte{[]byte("early"), []byte("bird")}); err != nil {
		t.Fatal(err)
	}
	peer, _ := startPeer(t, "late-router", ep)
	msg := recvWithin(t, dealer, 15*time.Second)
	if string(msg[0]) != "welcome" {
		t.Fatalf("got %q", msg)
	}
	peer.expect(t, "ok")
}
