package client

import (
	"errors"
	"testing"
)

// The exit status map reports for a command on a Python engine comes from the runner's
// error text, worded as the Go engine words it.
func TestPythonExitCodeReadsTheGoEngineWording(t *testing.T) {
	for _, c := range []struct {
		value string
		want  int
	}{
		{"command 'exit 3' exited with status 3", 3},
		{"command 'echo a; exit 1 …' exited with status 1", 1},
		{"command 'kill -TERM $$' was killed by signal SIGTERM", -15},
		{"command 'kill -9 $$' was killed by signal SIGKILL", -9},
		{"command 'x' was killed by signal signal 40", -40},
		{"command 'x' exited with status 3 because the engine is stopping", -1},
		{"something else", -1},
	} {
		if got := PythonExitCode(&RemoteError{Name: "CommandError", Value: c.value}); got != c.want {
			t.Errorf("PythonExitCode(%q) = %d, want %d", c.value, got, c.want)
		}
	}
	if got := PythonExitCode(&RemoteError{Name: "ValueError", Value: "command 'x' exited with status 3"}); got != -1 {
		t.Errorf("a ValueError gave exit code %d, want -1", got)
	}
	if got := PythonExitCode(errors.New("command 'x' exited with status 3")); got != -1 {
		t.Errorf("a local error gave exit code %d, want -1", got)
	}
}
