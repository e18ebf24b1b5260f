package pyfind

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFakePython makes an executable "python3" that succeeds only for the import it accepts.
func writeFakePython(t *testing.T, dir, accepts string) string {
	t.Helper()
	p := filepath.Join(dir, "python3")
	script := "#!/bin/sh\ncase \"$2\" in\n  'import " + accepts + "'*) exit 0 ;;\nesac\necho \"ModuleNotFoundError: No module named 'x'\" >&2\nexit 1\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEnvironmentChoosesTheInterpreter(t *testing.T) {
	dir := t.TempDir()
	fake := writeFakePython(t, dir, "good")
	t.Setenv(EnvVar, fake)
	Reset()
	if got, err := Find("good"); err != nil || got != fake {
		t.Fatalf("Find(good) = %q, %v; want %q", got, err, fake)
	}
	Reset()
	_, err := Find("bad")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "No module named") {
		t.Fatalf("Find(bad) error = %v; want ErrNotFound naming the import error", err)
	}
	t.Setenv(EnvVar, "none")
	Reset()
	if _, err := Find("good"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), EnvVar+"=none") {
		t.Fatalf("with %s=none: %v", EnvVar, err)
	}
}

func TestPathComesFirst(t *testing.T) {
	dir := t.TempDir()
	fake := writeFakePython(t, dir, "onlyhere")
	t.Setenv(EnvVar, "")
	t.Setenv("PATH", dir)
	Reset()
	if c := Candidates(); len(c) == 0 || c[0] != fake {
		t.Fatalf("Candidates() = %v; want %s first", c, fake)
	}
	if got, err := Find("onlyhere"); err != nil || got != fake {
		t.Fatalf("Find = %q, %v; want %q", got, err, fake)
	}
}
