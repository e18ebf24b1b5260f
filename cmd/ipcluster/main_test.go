package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/procstat"
	"ipcluster/internal/testutil"
)

// binDir holds the ipcluster, ipcontroller and ipengine under test: $IPCLUSTER_BIN (set by
// make), or a fresh build.
var binDir string

func TestMain(m *testing.M) {
	binDir = os.Getenv("IPCLUSTER_BIN")
	if binDir == "" {
		dir, err := os.MkdirTemp("", "ipcluster-bin")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command("go", "build", "-o", dir+"/", "ipcluster/cmd/...")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			panic("build: " + err.Error())
		}
		binDir = dir
	}
	os.Exit(m.Run())
}

// env is a scratch IPython directory with ipcluster commands run in it.
type env struct {
	t     *testing.T
	dir   string
	extra []string // more environment variables, e.g. IPCLUSTER_PYTHON=none
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, dir: t.TempDir()}
	t.Cleanup(func() {
		if t.Failed() {
			e.logTails()
		}
		e.ipcluster("stop", "--all")
		e.assertNoProcesses()
	})
	return e
}

// logTails shows the end of every log the cluster wrote, for a failed test.
func (e *env) logTails() {
	filepath.WalkDir(e.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".log") {
			return nil
		}
		data, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		e.t.Logf("--- %s (last %d lines)\n%s", path, min(len(lines), 30), strings.Join(lines[max(0, len(lines)-30):], "\n"))
		return nil
	})
}

func (e *env) environ() []string {
	// Open MPI: loopback only (its root override comes from mpi_args in the MPI test's config)
	return append(append(os.Environ(), "IPYTHONDIR="+e.dir, "OMPI_MCA_btl_tcp_if_include=lo", "OMPI_MCA_oob_tcp_if_include=lo"), e.extra...)
}

// ipcluster runs a subcommand to completion and returns its output and exit code.
func (e *env) ipcluster(args ...string) (string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "ipcluster"), args...)
	cmd.Env = e.environ()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		e.t.Fatalf("ipcluster %v: %v", args, err)
	}
	return out.String(), code
}

func (e *env) mustIPCluster(args ...string) string {
	e.t.Helper()
	out, code := e.ipcluster(args...)
	if code != 0 {
		e.t.Fatalf("ipcluster %s exited %d:\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// python runs a snippet with the real ipyparallel Client.
func (e *env) python(code string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", "-c", code)
	cmd.Env = e.environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("python: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// writeConfig writes the default profile's ipcluster_config.py.
func (e *env) writeConfig(text string) {
	e.t.Helper()
	dir := filepath.Join(e.dir, "profile_default")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "ipcluster_config.py"), []byte("c = get_config()\n"+text), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// processes lists processes whose command line mentions the scratch directory.
func (e *env) processes() []string { return processesMentioning(e.dir) }

// processesMentioning lists live (not zombie) processes of any user whose command line
// contains marker, as "pid: command line".
func processesMentioning(marker string) []string {
	var found []string
	for _, pid := range procstat.PIDs() {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.Contains(cmdline, []byte(marker)) || !procstat.Alive(pid) {
			continue
		}
		found = append(found, fmt.Sprintf("%d: %s", pid, strings.ReplaceAll(string(cmdline), "\x00", " ")))
	}
	return found
}

func (e *env) assertNoProcesses() {
	e.t.Helper()
	if !testutil.Within(10*time.Second, func() bool { return len(e.processes()) == 0 }) {
		e.t.Fatalf("processes left behind:\n%s", strings.Join(e.processes(), "\n"))
	}
}

func engineCount(e *env, clusterArg string) string {
	return e.python(fmt.Sprintf(`
import ipyparallel as ipp
c = ipp.Client(%s)
c.wait_for_engines(len(c.ids) or 1, timeout=30)
print(sorted(c.ids))
c.close()`, clusterArg))
}

// waitForLine reads lines from r until one contains want, failing after d; the returned
// function drains the rest (call it before waiting for the process).
func waitForLine(t *testing.T, cmd *exec.Cmd, r io.Reader, want string, d time.Duration) (drain func()) {
	t.Helper()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var seen []string
	deadline := time.After(d)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("output ended without %q:\n%s", want, strings.Join(seen, "\n"))
			}
			seen = append(seen, line)
			if strings.Contains(line, want) {
				return func() {
					for range lines {
					}
				}
			}
		case <-deadline:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no %q within %v:\n%s", want, d, strings.Join(seen, "\n"))
		}
	}
}
