package controller

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// assertNothingWritten checks that a controller that failed to start left no connection
// file and no pid file behind.
func assertNothingWritten(t *testing.T, profileDir string) {
	t.Helper()
	for _, sub := range []string{"security", "pid"} {
		entries, _ := os.ReadDir(filepath.Join(profileDir, sub))
		for _, e := range entries {
			t.Errorf("left behind: %s/%s", sub, e.Name())
		}
	}
}

func TestBindToAnAddressNotOnThisHostIsAnError(t *testing.T) {
	dir := t.TempDir()
	_, err := New(Config{ProfileDir: dir, IP: "192.0.2.1"})
	var be *BindError
	if !errors.As(err, &be) {
		t.Fatalf("New = %v, want a *BindError", err)
	}
	if !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Errorf("error does not wrap EADDRNOTAVAIL: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"tcp://192.0.2.1:0", "(registration)", "not on this host", "--ip=127.0.0.1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message is not one line: %q", msg)
	}
	assertNothingWritten(t, dir)
}

func TestBusyPortIsAnErrorAndClosesWhatWasBound(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	free := freePort(t)
	// The registration socket binds free, the notification socket then hits busy.
	_, err = New(Config{ProfileDir: dir, Ports: []int{free, busyPort}})
	var be *BindError
	if !errors.As(err, &be) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("New = %v, want a *BindError wrapping EADDRINUSE", err)
	}
	want := fmt.Sprintf("cannot bind tcp://127.0.0.1:%d (notification): address already in use", busyPort)
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message %q, want it to start with %q", err, want)
	}
	assertNothingWritten(t, dir)
	// The socket bound before the failure was closed: its port is free again.
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(free))
	if err != nil {
		t.Errorf("port %d bound before the failure is still held: %v", free, err)
	} else {
		ln.Close()
	}
}

func TestBindErrorCauses(t *testing.T) {
	for errno, want := range map[syscall.Errno]string{
		syscall.EACCES:        "permission denied — ports below 1024",
		syscall.EADDRINUSE:    "address already in use",
		syscall.EADDRNOTAVAIL: "not on this host",
	} {
		err := &BindError{Socket: "registration", Transport: "tcp", IP: "10.1.2.3", Port: 80,
			Err: &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", errno)}}
		if got := err.Error(); !strings.HasPrefix(got, "cannot bind tcp://10.1.2.3:80 (registration): ") || !strings.Contains(got, want) {
			t.Errorf("%v: %q lacks %q", errno, got, want)
		}
	}
}

func TestPIDFileWhileRunning(t *testing.T) {
	for _, clusterID := range []string{"", "abc"} {
		dir := t.TempDir()
		r := startController(t, Config{ProfileDir: dir, ClusterID: clusterID})
		name := "ipcontroller.pid"
		if clusterID != "" {
			name = "ipcontroller-abc.pid"
		}
		path := filepath.Join(dir, "pid", name)
		if r.c.PIDFile() != path {
			t.Errorf("PIDFile() = %s, want %s", r.c.PIDFile(), path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(data)) != strconv.Itoa(os.Getpid()) {
			t.Errorf("%s holds %q, want this process's id %d", path, data, os.Getpid())
		}
		r.stop(t)
		if logs := r.logs.String(); !strings.Contains(logs, "client_file="+r.c.ClientFile()) || !strings.Contains(logs, "engine_file="+r.c.EngineFile()) {
			t.Errorf("the start log does not name both connection files:\n%s", logs)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("pid file not removed on a clean exit: %v", err)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
