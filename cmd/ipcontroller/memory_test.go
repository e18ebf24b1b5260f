package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/procstat"
	"ipcluster/internal/testutil"
	"ipcluster/profiles"
	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

// memoryBoundMB is the controller's peak resident size allowed while a stalled client and a
// stalled iopub subscriber are flooded: with the default high-water marks (send 10000,
// receive 1000 messages a connection) it peaks near 70 MB; without them
// (HWM_TEST_ARGS="--IPController.send_hwm=0 --IPController.recv_hwm=0") near 1.4 GB.
const memoryBoundMB = 120

// A client that sends 200k queue_requests and never reads a reply, and an iopub subscriber
// that never reads while 200k outputs pass, leave the controller's memory bounded: past the
// send high-water mark their messages are dropped, and a connection the controller cannot
// keep up with waits (receive high-water mark) instead of filling a queue.
func TestStalledClientAndSubscriberLeaveMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("floods the controller with 400k messages")
	}
	// HWM_TEST_ARGS: extra controller options, to measure other limits by hand.
	peak, rss := floodController(t, strings.Fields(os.Getenv("HWM_TEST_ARGS"))...)
	t.Logf("controller VmHWM (peak RSS) %d MB, VmRSS after the flood %d MB (bound %d MB)", peak, rss, memoryBoundMB)
	if peak > memoryBoundMB {
		t.Errorf("the controller's peak RSS reached %d MB, over the %d MB bound", peak, memoryBoundMB)
	}
}

// floodController starts the controller (this test binary as ipcontroller) with args,
// floods it and returns its peak and final RSS in MB.
func floodController(t *testing.T, args ...string) (peakMB, rssMB int) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], append([]string{"--ping=60000"}, args...)...)
	cmd.Env = append(os.Environ(), "IPCONTROLLER_TEST_MAIN=1", "IPYTHONDIR="+dir, "IPP_SESSION_KEY=", "IPP_PROFILE_DIR=", "IPP_CLUSTER_ID=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	security := filepath.Join(dir, "profile_default", "security")
	var client profiles.ClientInfo
	var engine profiles.EngineInfo
	testutil.Eventually(t, 20*time.Second, "the controller's connection files", func() bool {
		return profiles.ReadJSON(filepath.Join(security, "ipcontroller-engine.json"), &engine) == nil &&
			profiles.ReadJSON(filepath.Join(security, "ipcontroller-client.json"), &client) == nil
	})
	session, err := wire.NewSession([]byte(client.Key), client.SignatureScheme)
	if err != nil {
		t.Fatal(err)
	}
	zctx, _ := transport.NewContext()
	var socks []*transport.Socket
	open := func(kind transport.Kind, port int) *transport.Socket {
		s, _ := zctx.NewSocket(kind)
		s.SetLinger(0)
		s.SetRecvHWM(1) // a stalled reader: once one message waits, TCP stops the rest
		if kind == transport.Sub {
			s.Subscribe("")
		}
		if err := s.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", port)); err != nil {
			t.Fatal(err)
		}
		socks = append(socks, s)
		return s
	}
	t.Cleanup(func() {
		for _, s := range socks {
			s.Close()
		}
		zctx.Term()
	})
	const flood = 200_000
	open(transport.Sub, client.IOPub) // the stalled subscriber, connected before output flows
	query := open(transport.Dealer, client.Registration)
	engineOut := open(transport.Pub, engine.IOPub)
	output := `{"name":"stdout","text":"` + strings.Repeat("x", 1000) + `"}`
	for range flood {
		_, frames := session.Encode(nil, "queue_request", nil, nil, []byte(`{"targets":null,"verbose":false}`))
		if err := query.Send(frames); err != nil {
			t.Fatal(err)
		}
		_, frames = session.Encode([][]byte{[]byte("engine.0.stream")}, "stream", nil, nil, []byte(output))
		engineOut.Send(frames)
	}
	waitIdle(t, cmd.Process.Pid)
	return procStatusMB(t, cmd.Process.Pid, "VmHWM"), procStatusMB(t, cmd.Process.Pid, "VmRSS")
}

// waitIdle waits until the process has used no CPU for half a second: it has handled all
// it was sent (or stopped reading what it cannot hold).
func waitIdle(t *testing.T, pid int) {
	t.Helper()
	last, quiet := cpuTime(t, pid), 0
	if !testutil.WithinEvery(90*time.Second, 100*time.Millisecond, func() bool {
		if now := cpuTime(t, pid); now == last {
			quiet++
		} else {
			last, quiet = now, 0
		}
		return quiet > 5 // the first check compares with itself
	}) {
		t.Fatal("the controller stayed busy for 90 s")
	}
}

// cpuTime is the process's own user and system time (/proc/<pid>/stat).
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	p, err := procstat.Stat(pid)
	if err != nil {
		t.Fatal(err)
	}
	return p.UTime + p.STime
}

// procStatusMB reads a size field (VmRSS, VmHWM) of /proc/<pid>/status, in MB.
func procStatusMB(t *testing.T, pid int, field string) int {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, value, ok := strings.Cut(sc.Text(), ":"); ok && name == field {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(value), " kB"))
			return kb / 1024
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
