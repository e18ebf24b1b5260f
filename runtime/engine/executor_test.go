package engine_test

import (
	"strings"
	"sync"
	"testing"

	"ipcluster/runtime/engine"
)

// An engine with an Executor answers like one running a shell, without a process: the
// swarm benchmark's engines rely on it.
func TestExecutorAnswersWithoutAShell(t *testing.T) {
	cl := newCluster(t)
	var mu sync.Mutex // the executor runs on the engine's loop
	var ran []string
	e := cl.startEngine(engine.Config{Executor: engine.ExecutorFunc(func(code string) engine.Outcome {
		mu.Lock()
		ran = append(ran, code)
		mu.Unlock()
		if code == "fail" {
			return engine.Outcome{Stderr: "no such thing\n", ExitCode: 2}
		}
		return engine.Outcome{Stdout: "did " + code + "\n"}
	}), Shell: engine.ShellCommand{"/nonexistent/shell"}})
	c := cl.client
	id := c.execute(e.UUID(), "work", false)
	if r := c.reply(id); r.Content["status"] != "ok" || r.Content["execution_count"] != 1.0 {
		t.Fatalf("reply %v", r)
	}
	c.idle(id)
	if out := c.stream(id, "stdout"); out != "did work\n" {
		t.Errorf("stdout %q", out)
	}
	var types []string
	for _, m := range c.iopubFor(id) {
		types = append(types, m.Header.MsgType)
	}
	if strings.Join(types, ",") != "status,execute_input,stream,status" {
		t.Errorf("iopub sequence %v: want busy, execute_input, stream, idle", types)
	}

	id = c.execute(e.UUID(), "fail", true)
	r := c.reply(id)
	if r.Content["status"] != "error" || r.Content["ename"] != engine.CommandErrorName || r.Content["exit_code"] != 2.0 {
		t.Fatalf("reply %v", r)
	}
	c.idle(id)
	if errText := c.stream(id, "stderr"); errText != "no such thing\n" {
		t.Errorf("stderr %q", errText)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(ran, ",") != "work,fail" {
		t.Errorf("executor ran %q", ran)
	}
}
