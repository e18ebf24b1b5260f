package engine_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipcluster/internal/procstat"
	"ipcluster/internal/testutil"
	"ipcluster/runtime/engine"
	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire/wiretest"
)

// waitGone waits until none of pids is alive.
func waitGone(t *testing.T, pids ...int) {
	t.Helper()
	testutil.Eventually(t, waitLong, fmt.Sprintf("processes %v to exit", pids), func() bool {
		for _, pid := range pids {
			if procstat.Alive(pid) {
				return false
			}
		}
		return true
	})
}

// pidsFrom waits for msgID's stdout to hold n lines of pids and returns them.
func pidsFrom(t *testing.T, c *testClient, msgID string, n int) []int {
	t.Helper()
	var pids []int
	c.waitFor("pids on stdout", func(m got) bool {
		if m.Parent.MsgID != msgID || m.Header.MsgType != "stream" {
			return false
		}
		fields := strings.Fields(c.stream(msgID, "stdout"))
		if len(fields) < n {
			return false
		}
		pids = nil
		for _, f := range fields[:n] {
			pid, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("not a pid: %q", f)
			}
			pids = append(pids, pid)
		}
		return true
	})
	return pids
}

// blocker starts a command that prints its shell's pid and a background child's pid, then
// waits for the child; it runs until stopped.
const blocker = "sleep 300 & echo $$; echo $!; wait"

func TestSignalRequestInterruptsCommand(t *testing.T) {
	cl := newCluster(t)
	e := cl.startEngine(engine.Config{})
	c := cl.client
	id := c.execute(e.UUID(), blocker, true)
	pids := pidsFrom(t, c, id, 2)
	sig := c.send(c.control, e.UUID(), "signal_request", map[string]any{"sig": "SIGINT"}, nil)
	if r := c.reply(sig); r.Header.MsgType != "signal_reply" || r.Content["status"] != "ok" {
		t.Fatalf("signal reply %v", r)
	}
	r := c.reply(id)
	if r.Content["status"] != "error" || !strings.Contains(r.Content["evalue"].(string), "SIGINT") || r.Content["exit_code"] != -2.0 {
		t.Fatalf("interrupted command: %v", r.Content)
	}
	waitGone(t, pids...)
	// the engine is still usable, and bad signals are errors
	bad := c.send(c.control, e.UUID(), "signal_request", map[string]any{"sig": "SIGNOPE"}, nil)
	if r := c.reply(bad); r.Content["status"] != "error" {
		t.Errorf("bad signal: %v", r.Content)
	}
	if r := c.reply(c.execute(e.UUID(), "true", true)); r.Content["status"] != "ok" {
		t.Errorf("after signal: %v", r.Content)
	}
}

func TestRequestsRunInOrderAndAbort(t *testing.T) {
	cl := newCluster(t)
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "gate"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := cl.startEngine(engine.Config{WorkDir: dir})
	c := cl.client
	first := c.execute(e.UUID(), "echo started; cat gate", true)
	c.waitFor("first command running", func(m got) bool { return m.Parent.MsgID == first && m.Header.MsgType == "stream" })
	a := c.execute(e.UUID(), "echo a", true)
	b := c.execute(e.UUID(), "echo b", true)
	d := c.execute(e.UUID(), "echo d", true)
	// control is served while the first command runs: abort a by id (queued now)
	ab := c.send(c.control, e.UUID(), "abort_request", map[string]any{"msg_ids": []string{a}}, nil)
	if r := c.reply(ab); r.Content["status"] != "ok" {
		t.Fatalf("abort reply %v", r)
	}
	if r := c.reply(a); r.Content["status"] != "aborted" || r.Metadata["status"] != "aborted" {
		t.Fatalf("aborted request: %v", r)
	}
	c.idle(a)
	// an id that has not arrived yet is aborted when it does
	later := c.Session.NewMsgID()
	c.reply(c.send(c.control, e.UUID(), "abort_request", map[string]any{"msg_ids": []string{later}}, nil))
	if err := os.WriteFile(filepath.Join(dir, "gate"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{first, b, d} {
		if r := c.reply(id); r.Content["status"] != "ok" {
			t.Fatalf("%s: %v", id, r.Content)
		}
		c.idle(id) // all output is in once idle is
	}
	if bOut, dOut := c.stream(b, "stdout"), c.stream(d, "stdout"); bOut != "b\n" || dOut != "d\n" {
		t.Errorf("outputs %q %q", bOut, dOut)
	}
	// shell requests are answered in arrival order
	order := map[string]int{}
	for i, m := range c.Received() {
		if m.Header.MsgType == "execute_reply" {
			order[m.Parent.MsgID] = i
		}
	}
	if !(order[first] < order[b] && order[b] < order[d]) {
		t.Errorf("replies out of order: %v", order)
	}
	// empty msg_ids aborts the queue
	if err := os.Remove(filepath.Join(dir, "gate")); err != nil {
		t.Fatal(err)
	}
	syscall.Mkfifo(filepath.Join(dir, "gate"), 0o600)
	block := c.execute(e.UUID(), "echo started; cat gate", true)
	c.waitFor("blocking command running", func(m got) bool { return m.Parent.MsgID == block && m.Header.MsgType == "stream" })
	q1, q2 := c.execute(e.UUID(), "echo q1", true), c.execute(e.UUID(), "echo q2", true)
	testutil.Eventually(t, waitLong, "two queued requests", func() bool { return engine.Queued(e.Engine) == 2 })
	c.reply(c.send(c.control, e.UUID(), "abort_request", map[string]any{"msg_ids": []string{}}, nil))
	os.WriteFile(filepath.Join(dir, "gate"), nil, 0o600)
	c.reply(block)
	for _, q := range []string{q1, q2} {
		if r := c.reply(q); r.Content["status"] != "aborted" {
			t.Errorf("queued request after abort-all: %v", r.Content)
		}
	}
}

func TestShutdownStopsCommandAndChildren(t *testing.T) {
	cl := newCluster(t)
	e := cl.startEngine(engine.Config{KillGrace: time.Second})
	c := cl.client
	// the shell ignores SIGTERM: the engine must escalate to SIGKILL
	id := c.execute(e.UUID(), "trap '' TERM; "+blocker, true)
	pids := pidsFrom(t, c, id, 2)
	sd := c.send(c.control, e.UUID(), "shutdown_request", map[string]any{"restart": false}, nil)
	r := c.reply(sd)
	if r.Header.MsgType != "shutdown_reply" || r.Content["status"] != "ok" || r.Content["restart"] != false {
		t.Fatalf("shutdown reply %v", r)
	}
	if r := c.reply(id); r.Content["status"] != "error" || !strings.Contains(r.Content["evalue"].(string), "engine is stopping") {
		t.Errorf("running command's reply %v", r.Content)
	}
	c.waitFor("iopub shutdown_reply", func(m got) bool {
		return m.Socket == "iopub" && m.Header.MsgType == "shutdown_reply" && m.Parent.MsgID == sd && m.Content["status"] == "ok"
	})
	if err := e.wait(t, waitLong); err != nil {
		t.Fatalf("Run: %v", err)
	}
	waitGone(t, pids...)
	c.waitFor("unregistration", func(m got) bool {
		return m.Header.MsgType == "unregistration_notification" && m.Content["uuid"] == e.UUID()
	})
}

func TestNoOrphansAfterCommandExits(t *testing.T) {
	cl := newCluster(t)
	e := cl.startEngine(engine.Config{})
	c := cl.client
	// The shell exits at once, leaving a background child holding stdout.
	id := c.execute(e.UUID(), "sleep 300 & echo $!", true)
	if r := c.reply(id); r.Content["status"] != "ok" {
		t.Fatalf("reply %v", r.Content)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(c.stream(id, "stdout")))
	if err != nil {
		t.Fatal(err)
	}
	if procstat.Alive(pid) {
		t.Errorf("background child %d outlived its command", pid)
	}
}

func TestStopOnContextCancel(t *testing.T) {
	cl := newCluster(t)
	e := cl.startEngine(engine.Config{})
	c := cl.client
	id := c.execute(e.UUID(), blocker, true)
	pids := pidsFrom(t, c, id, 2)
	e.cancel() // what SIGTERM does in cmd/ipengine
	if err := e.wait(t, waitLong); err != nil {
		t.Fatalf("Run: %v", err)
	}
	waitGone(t, pids...)
	c.waitFor("unregistration", func(m got) bool {
		return m.Header.MsgType == "unregistration_notification" && m.Content["uuid"] == e.UUID()
	})
}

func TestLeavesWhenControllerGone(t *testing.T) {
	cl := newCluster(t)
	e := cl.startEngine(engine.Config{MaxHeartbeatMisses: 3})
	c := cl.client
	id := c.execute(e.UUID(), blocker, true)
	pids := pidsFrom(t, c, id, 2)
	cl.stopController()
	err := e.wait(t, waitLong)
	if !errors.Is(err, engine.ErrControllerGone) || !strings.Contains(err.Error(), "no heartbeat") {
		t.Fatalf("Run: %v, want ErrControllerGone", err)
	}
	waitGone(t, pids...)
}

func TestKernelInfoAndClear(t *testing.T) {
	cl := newCluster(t)
	e := cl.startEngine(engine.Config{})
	c := cl.client
	ki := c.send(c.control, e.UUID(), "kernel_info_request", map[string]any{}, nil)
	r := c.reply(ki)
	if r.Content["protocol_version"] != "5.3" || r.Content["implementation"] != "ipengine-go" ||
		r.Content["language_info"].(map[string]any)["name"] != "shell" {
		t.Errorf("kernel_info_reply %v", r.Content)
	}
	c.idle(ki)
	cr := c.send(c.control, e.UUID(), "clear_request", map[string]any{}, nil)
	if r := c.reply(cr); r.Header.MsgType != "clear_reply" || r.Content["status"] != "ok" {
		t.Errorf("clear_reply %v", r)
	}
	c.idle(cr)
}

func TestRegistrationRefused(t *testing.T) {
	cl := newCluster(t)
	info := cl.info
	info.Registration = fakeRegistrar(t, info.Key, map[string]any{"status": "error", "ename": "KeyError",
		"evalue": `"uuid 'x' in use"`, "traceback": []string{}, "engine_info": map[string]any{}})
	e := cl.launch(engine.Config{Info: info})
	err := e.wait(t, waitLong)
	if !errors.Is(err, engine.ErrRegistration) || !strings.Contains(err.Error(), "KeyError") || !strings.Contains(err.Error(), "in use") {
		t.Errorf("refused registration: %v", err)
	}
}

func TestRegistrationTimeout(t *testing.T) {
	cl := newCluster(t)
	info := cl.info
	info.Registration = cl.info.HBPing // a PUB socket: it never answers
	start := time.Now()
	e := cl.launch(engine.Config{Info: info, RegistrationTimeout: 300 * time.Millisecond})
	err := e.wait(t, waitLong)
	if !errors.Is(err, engine.ErrRegistration) || !strings.Contains(err.Error(), "no registration_reply") {
		t.Errorf("no reply: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("gave up after %s", d)
	}
}

// fakeRegistrar is a registration socket that answers every request with reply; it
// returns its port.
func fakeRegistrar(t *testing.T, key string, reply map[string]any) int {
	t.Helper()
	w := wiretest.New(t, key, "")
	router, port := w.Bind(transport.Router)
	w.Serve(router, func(frames [][]byte) {
		if m, err := w.Decode(frames); err == nil {
			w.Reply(router, m, "registration_reply", nil, reply, nil)
		}
	})
	w.Start()
	return port
}
