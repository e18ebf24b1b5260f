package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipcluster/runtime/engine"
)

func TestStartupCommandAndScriptRunInWorkDirBeforeRegistering(t *testing.T) {
	cl := newCluster(t)
	dir := t.TempDir()
	script := filepath.Join(t.TempDir(), "startup.sh")
	os.WriteFile(script, []byte("echo script >> order\n"), 0o644) // sourced: needs no exec bit
	e := cl.startEngine(engine.Config{WorkDir: dir, StartupCommand: "echo command > order", StartupScript: script})
	id := cl.client.execute(e.UUID(), "cat order; pwd", true)
	if r := cl.client.reply(id); r.Content["status"] != "ok" {
		t.Fatalf("reply %v", r)
	}
	cl.client.idle(id)
	if out := cl.client.stream(id, "stdout"); out != "command\nscript\n"+dir+"\n" {
		t.Errorf("stdout %q", out)
	}
}

func TestFailingStartupCommandStopsTheEngineWithItsOutput(t *testing.T) {
	cl := newCluster(t)
	e, err := engine.New(engine.Config{Info: cl.info, WorkDir: t.TempDir(), StartupCommand: "echo no such module >&2; exit 3"})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Run(context.Background())
	if !errors.Is(err, engine.ErrStartup) || !strings.Contains(err.Error(), "exit status 3") ||
		!strings.Contains(err.Error(), "no such module") || !strings.Contains(err.Error(), "startup_command") {
		t.Errorf("error %v", err)
	}
	if e.ID() != -1 {
		t.Errorf("registered as %d despite the failure", e.ID())
	}
}
