// Package pyfind finds the Python interpreter that ipcluster hands work to: evaluating
// *_config.py files with traitlets, and running ipyparallel's own engines. Both need a
// Python that imports certain modules, which the first python3 on PATH may not (a pyenv or
// conda Python without ipyparallel, while Debian's /usr/bin/python3 has it).
package pyfind

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// EnvVar names the variable that chooses the interpreter explicitly: a path, or "none" to
// use no Python at all (the Go-only paths).
const EnvVar = "IPCLUSTER_PYTHON"

// Fallback is tried after python3 on PATH.
const Fallback = "/usr/bin/python3"

// checkTimeout bounds one import check: a Python that hangs must not hang ipcluster.
const checkTimeout = 20 * time.Second

// ErrNotFound is wrapped by Find's error when no candidate imports the modules.
var ErrNotFound = errors.New("no suitable Python found")

type result struct {
	path string
	err  error
}

var (
	mu    sync.Mutex
	cache = map[string]result{} // "PATH\x00IPCLUSTER_PYTHON\x00modules" -> result
)

// Candidates lists the interpreters Find tries, in order: $IPCLUSTER_PYTHON alone when it is
// set ("none": nothing), else python3 on PATH, then /usr/bin/python3.
func Candidates() []string {
	if v, ok := os.LookupEnv(EnvVar); ok && v != "" {
		if v == "none" {
			return nil
		}
		return []string{v}
	}
	var out []string
	if p, err := exec.LookPath("python3"); err == nil {
		out = append(out, p)
	}
	if len(out) == 0 || out[0] != Fallback {
		if st, err := os.Stat(Fallback); err == nil && !st.IsDir() {
			out = append(out, Fallback)
		}
	}
	return out
}

// Find returns the first candidate interpreter (see Candidates) that imports every one of
// modules. The answer is remembered for the life of the process, so a command checks once.
// The error names each interpreter tried and why it did not do.
func Find(modules ...string) (string, error) {
	key := os.Getenv("PATH") + "\x00" + os.Getenv(EnvVar) + "\x00" + strings.Join(modules, ",")
	mu.Lock()
	defer mu.Unlock()
	if r, ok := cache[key]; ok {
		return r.path, r.err
	}
	r := find(modules)
	cache[key] = r
	return r.path, r.err
}

func find(modules []string) result {
	want := strings.Join(modules, ", ")
	cands := Candidates()
	if len(cands) == 0 {
		why := "no python3 on PATH and no " + Fallback
		if os.Getenv(EnvVar) == "none" {
			why = EnvVar + "=none"
		}
		return result{err: fmt.Errorf("%w that imports %s (%s)", ErrNotFound, want, why)}
	}
	var tried []string
	for _, py := range cands {
		exe, err := imports(py, modules)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", py, err))
			continue
		}
		return result{path: exe}
	}
	return result{err: fmt.Errorf("%w that imports %s (tried %s)", ErrNotFound, want, strings.Join(tried, "; "))}
}

// imports runs py and imports the modules, reporting the last line Python printed on failure.
// On success it returns the interpreter's own path (sys.executable): a pyenv shim found on
// PATH costs a second or more per start, the interpreter behind it a tenth of that.
func imports(py string, modules []string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	code := "import " + strings.Join(modules, ", ") + "; import sys; print(sys.executable)"
	out, err := exec.CommandContext(ctx, py, "-c", code).Output()
	if err == nil {
		exe := strings.TrimSpace(string(out))
		if st, statErr := os.Stat(exe); statErr != nil || st.IsDir() || !filepath.IsAbs(exe) {
			exe = py // an interpreter that does not know its own path (embedded, or a stub)
		}
		return exe, nil
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("no answer within %s", checkTimeout)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		lines := strings.Split(strings.TrimSpace(string(ee.Stderr)), "\n")
		if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
			return "", errors.New(last)
		}
	}
	return "", err
}

// Reset forgets remembered answers (for tests that change PATH or the environment).
func Reset() {
	mu.Lock()
	defer mu.Unlock()
	clear(cache)
}
