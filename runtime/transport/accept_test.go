//go:build !libzmq

// The pure-Go backend's own accept, handshake and size limits and their logging, checked
// through its internals; libzmq has these inside (ZMQ_HANDSHAKE_IVL, ZMQ_MAXMSGSIZE).

package transport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

const fdChildEnv = "TRANSPORT_TEST_FD_EXHAUSTION_CHILD"

// A listener keeps accepting after the process ran out of file descriptors: accept fails
// with EMFILE while the table is full, and once descriptors are free again a new peer
// connects and exchanges a message. The listening socket lives in a child process (this
// test binary run again) whose descriptor limit is lowered and then filled, so that the
// test's own process keeps its descriptors.
func TestListenerSurvivesFileDescriptorExhaustion(t *testing.T) {
	if os.Getenv(fdChildEnv) == "1" {
		fdExhaustedChild(t)
		return
	}
	child := exec.Command(os.Args[0], "-test.run=^TestListenerSurvivesFileDescriptorExhaustion$", "-test.count=1")
	child.Env = append(os.Environ(), fdChildEnv+"=1")
	var stderr testutil.LogBuffer
	child.Stderr = &stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		child.Process.Kill() // a no-op once it has exited
		child.Wait()
	}()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	expect := func(prefix string) string {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("child ended before %q; stderr:\n%s", prefix, stderr.String())
				}
				if rest, found := strings.CutPrefix(line, prefix); found {
					return rest
				}
			case <-timeout:
				t.Fatalf("child: no %q within 20 s; stderr:\n%s", prefix, stderr.String())
			}
		}
	}

	addr := "127.0.0.1:" + expect("port ")
	expect("full")
	// The kernel completes this connection; the child's accept fails with EMFILE.
	early, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	early.Close()
	expect("freed")

	dealer := newTestSocket(t, Dealer)
	if err := dealer.Connect("tcp://" + addr); err != nil {
		t.Fatal(err)
	}
	dealer.Send([][]byte{[]byte("hello after EMFILE")})
	if got := recvWithin(t, dealer, 10*time.Second); string(got[0]) != "hello after EMFILE" {
		t.Fatalf("echo: %q", got)
	}

	stdin.Close()
	if err := child.Wait(); err != nil {
		t.Fatalf("child: %v; stderr:\n%s", err, stderr.String())
	}
	log := stderr.String()
	if n := strings.Count(log, "cannot accept"); n != 1 {
		t.Errorf("the burst of failed accepts was logged %d times, want once:\n%s", n, log)
	}
	if !strings.Contains(log, "too many open files") || !strings.Contains(log, "accepts connections again") {
		t.Errorf("the log does not name the cause and the recovery:\n%s", log)
	}
}

// fdExhaustedChild binds an echoing ROUTER, fills its descriptor table, waits until an
// accept has failed (or 5 s), frees the descriptors and echoes until stdin closes.
func fdExhaustedChild(t *testing.T) {
	var logged testutil.LogBuffer
	zctx, _ := NewContext()
	zctx.SetLogger(slog.New(slog.NewTextHandler(io.MultiWriter(os.Stderr, &logged), nil)))
	router, _ := zctx.NewSocket(Router)
	port, err := router.Bind("tcp", "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			msg, err := router.Recv()
			if err != nil {
				return
			}
			router.Send(msg)
		}
	}()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = min(lim.Max, 128)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	var fillers []*os.File
	for {
		f, err := os.Open(os.DevNull)
		if errors.Is(err, syscall.EMFILE) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fillers = append(fillers, f)
	}
	fmt.Printf("port %d\nfull\n", port)
	testutil.Within(5*time.Second, func() bool { return strings.Contains(logged.String(), "cannot accept") })
	for _, f := range fillers {
		f.Close()
	}
	fmt.Println("freed")
	io.Copy(io.Discard, os.Stdin)
	router.Close()
	zctx.Term()
}
