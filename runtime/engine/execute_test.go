package engine_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"ipcluster/runtime/engine"
)

func TestExecuteOKStreamsAndStatus(t *testing.T) {
	cl := newCluster(t)
	e := cl.startEngine(engine.Config{})
	c := cl.client
	id := c.execute(e.UUID(), "echo out; echo err >&2", false)
	r := c.reply(id)
	if r.Header.MsgType != "execute_reply" || r.Content["status"] != "ok" {
		t.Fatalf("reply %v", r)
	}
	if r.Content["execution_count"] != 1.0 || len(r.Content["user_expressions"].(map[string]any)) != 0 || len(r.Content["payload"].([]any)) != 0 {
		t.Errorf("reply content %v", r.Content)
	}
	md := r.Metadata
	if md["engine"] != e.UUID() || md["status"] != "ok" || md["dependencies_met"] != true || md["is_broadcast"] != false ||
		md["is_coalescing"] != false || md["original_msg_id"] != "" || md["started"] == nil || md["engine_info"] != nil {
		t.Errorf("reply metadata %v", md)
	}
	if string(r.Idents[0]) != e.UUID() {
		t.Errorf("reply came from %q", r.Idents[0])
	}
	c.idle(id)
	if out, errText := c.stream(id, "stdout"), c.stream(id, "stderr"); out != "out\n" || errText != "err\n" {
		t.Errorf("stdout %q stderr %q", out, errText)
	}
	var types []string
	for _, m := range c.iopubFor(id) {
		types = append(types, m.Header.MsgType)
		if m.Metadata["engine"] != e.UUID() {
			t.Errorf("iopub %s without engine metadata: %v", m.Header.MsgType, m.Metadata)
		}
		want := "engine." + strconv.Itoa(e.id) + "." + m.Header.MsgType
		if string(m.Idents[0]) != want {
			t.Errorf("topic %q, want %q", m.Idents[0], want)
		}
	}
	if types[0] != "status" || types[1] != "execute_input" || types[len(types)-1] != "status" {
		t.Errorf("iopub sequence %v: want busy, execute_input, ..., idle", types)
	}
	// silent requests publish no execute_input and do not count
	id = c.execute(e.UUID(), "true", true)
	if r := c.reply(id); r.Content["execution_count"] != 1.0 {
		t.Errorf("silent execute counted: %v", r.Content)
	}
	c.idle(id)
	for _, m := range c.iopubFor(id) {
		if m.Header.MsgType == "execute_input" {
			t.Error("silent execute published execute_input")
		}
	}
}

func TestExecuteFailureNamesCommandAndExitCode(t *testing.T) {
	cl := newCluster(t)
	e := cl.startEngine(engine.Config{})
	c := cl.client
	id := c.execute(e.UUID(), "echo 'disk full' >&2; exit 3", true)
	r := c.reply(id)
	ct := r.Content
	if ct["status"] != "error" || ct["ename"] != engine.CommandErrorName || ct["exit_code"] != 3.0 {
		t.Fatalf("reply %v", r)
	}
	if ev := ct["evalue"].(string); !strings.Contains(ev, "'echo 'disk full' >&2; exit 3'") || !strings.Contains(ev, "exited with status 3") {
		t.Errorf("evalue %q", ev)
	}
	tb := ct["traceback"].([]any)
	if tb[len(tb)-1] != "disk full" {
		t.Errorf("traceback should end with the command's stderr: %q", tb)
	}
	info := ct["engine_info"].(map[string]any)
	if info["engine_uuid"] != e.UUID() || info["engine_id"] != float64(e.id) || info["method"] != "execute" {
		t.Errorf("engine_info %v", info)
	}
	if r.Metadata["status"] != "error" || r.Metadata["engine_info"] == nil {
		t.Errorf("metadata %v", r.Metadata)
	}
	c.idle(id)
	published := false
	for _, m := range c.iopubFor(id) {
		if m.Header.MsgType == "error" && m.Content["ename"] == engine.CommandErrorName && m.Content["exit_code"] == 3.0 {
			published = true
		}
	}
	if !published {
		t.Error("no iopub error message")
	}
	// a command that cannot even start is an error too, not a hang
	id = c.execute(e.UUID(), "no-such-command-xyz", true)
	if r := c.reply(id); r.Content["exit_code"] != 127.0 {
		t.Errorf("missing command: %v", r.Content)
	}
}

func TestExecuteStreamsWhileRunning(t *testing.T) {
	cl := newCluster(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "gate")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	e := cl.startEngine(engine.Config{WorkDir: dir})
	c := cl.client
	// The command prints, then blocks until the test writes to the fifo.
	id := c.execute(e.UUID(), "echo first; cat gate; echo third", true)
	c.waitFor("first output", func(m got) bool {
		return m.Parent.MsgID == id && m.Header.MsgType == "stream" && strings.Contains(m.Content["text"].(string), "first")
	})
	for _, m := range c.iopubFor(id) {
		if m.Header.MsgType == "status" && m.Content["execution_state"] == "idle" {
			t.Fatal("idle before the command finished")
		}
	}
	if err := os.WriteFile(fifo, []byte("second\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := c.reply(id); r.Content["status"] != "ok" {
		t.Fatalf("reply %v", r)
	}
	c.idle(id)
	if out := c.stream(id, "stdout"); out != "first\nsecond\nthird\n" {
		t.Errorf("stdout %q", out)
	}
}

func TestExecuteEnvironmentAndWorkDir(t *testing.T) {
	cl := newCluster(t)
	dir := t.TempDir()
	want := 7
	e := cl.startEngine(engine.Config{WorkDir: dir, ClusterID: "blue", ID: &want,
		Env: []string{"PATH=" + os.Getenv("PATH"), "IPP_SESSION_KEY=secret", "IPP_ENGINE_ID=stale"}})
	if e.id != want {
		t.Fatalf("requested id %d, got %d", want, e.id)
	}
	c := cl.client
	id := c.execute(e.UUID(), `echo "$IPP_ENGINE_ID $IPP_ENGINE_UUID $IPP_CLUSTER_ID [$IPP_SESSION_KEY]"; pwd`, true)
	c.reply(id)
	c.idle(id)
	got := c.stream(id, "stdout")
	if wantOut := "7 " + e.UUID() + " blue []\n" + dir + "\n"; got != wantOut {
		t.Errorf("stdout %q, want %q", got, wantOut)
	}
}

func TestEmptyCodeStartsNoProcess(t *testing.T) {
	cl := newCluster(t)
	// A shell that does not exist: any process start would fail, so an ok reply proves
	// that none was started.
	e := cl.startEngine(engine.Config{Shell: []string{"/nonexistent/shell", "-c"}})
	c := cl.client
	id := c.execute(e.UUID(), "  \n", false)
	if r := c.reply(id); r.Content["status"] != "ok" {
		t.Fatalf("empty code: %v", r)
	}
	c.idle(id)
	id = c.execute(e.UUID(), "true", true)
	r := c.reply(id)
	if r.Content["status"] != "error" || !strings.Contains(r.Content["evalue"].(string), "/nonexistent/shell") {
		t.Fatalf("non-empty code with a missing shell: %v", r)
	}
	c.idle(id)
}

func TestApplyRequestIsAClearError(t *testing.T) {
	cl := newCluster(t)
	e := cl.startEngine(engine.Config{})
	c := cl.client
	for _, sock := range []struct {
		name   string
		target string
	}{{"mux", e.UUID()}, {"task", ""}} {
		s := c.mux
		if sock.name == "task" {
			s = c.task
		}
		id := c.send(s, sock.target, "apply_request", map[string]any{}, nil)
		r := c.reply(id)
		if r.Header.MsgType != "apply_reply" || r.Content["status"] != "error" || r.Content["ename"] != "NotImplementedError" {
			t.Fatalf("%s: %v", sock.name, r)
		}
		if ev := r.Content["evalue"].(string); !strings.Contains(ev, "shell commands") || !strings.Contains(ev, "ipyparallel.engine") {
			t.Errorf("%s: evalue %q does not tell how to run functions", sock.name, ev)
		}
		if r.Content["engine_info"].(map[string]any)["method"] != "apply" {
			t.Errorf("%s: engine_info %v", sock.name, r.Content["engine_info"])
		}
		c.idle(id)
	}
}

func TestBroadcastMetadataIsEchoed(t *testing.T) {
	cl := newCluster(t)
	e := cl.startEngine(engine.Config{})
	c := cl.client
	md := map[string]any{"is_broadcast": true, "is_coalescing": true, "original_msg_id": "orig-1", "label": "L"}
	id := c.send(c.mux, e.UUID(), "execute_request", map[string]any{"code": "true", "silent": true}, md)
	r := c.reply(id)
	for k, v := range md {
		if r.Metadata[k] != v {
			t.Errorf("metadata %s = %v, want %v", k, r.Metadata[k], v)
		}
	}
	c.idle(id)
}
