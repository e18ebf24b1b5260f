// Package clienttest runs local ipyparallel clusters as real processes, for the client's
// tests and benchmarks: a controller (ours, bin/ipcontroller, or ipyparallel's Python one)
// and engines (our Go bin/ipengine, or ipyparallel's Python engine) in a fresh profile
// directory. Every process runs in its own process group with its output in a log file and
// carries IPCLUSTER_TEST_TAG=<tag> in its environment, so that Stop can find and end
// whatever it left behind (the Python engine's nanny runs in a session of its own).
package clienttest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ipcluster/internal/procstat"
	"ipcluster/internal/wait"
	"ipcluster/profiles"
)

// Python is the interpreter that has ipyparallel 7.1 (Debian's python3-ipyparallel); the
// python3 first on PATH may lack it.
const Python = "/usr/bin/python3"

// TagVar is the environment variable that marks every process of a cluster.
const TagVar = "IPCLUSTER_TEST_TAG"

// Kind says whose controller or engine to run.
type Kind string

// Kinds of controllers and engines.
const (
	Go     Kind = "go"     // ours: $IPCLUSTER_BIN/ipcontroller, $IPCLUSTER_BIN/ipengine
	PyKind Kind = "python" // ipyparallel's: python3 -m ipyparallel.controller / .engine
)

// ParseKinds reads a comma-separated list of controller kinds ("go,python"), as the
// benchmarks' --controllers flag gives it.
func ParseKinds(list string) ([]Kind, error) {
	var kinds []Kind
	for _, k := range strings.Split(list, ",") {
		switch kind := Kind(strings.TrimSpace(k)); kind {
		case Go, PyKind:
			kinds = append(kinds, kind)
		default:
			return nil, fmt.Errorf("unknown controller %q (go, python)", k)
		}
	}
	return kinds, nil
}

// Bin is the directory of our binaries: $IPCLUSTER_BIN (set by `make test`), else the
// module's bin/ found upwards from the working directory.
func Bin() string {
	if b := os.Getenv("IPCLUSTER_BIN"); b != "" {
		return b
	}
	dir, err := os.Getwd()
	if err != nil {
		return "bin"
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "bin")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "bin"
		}
		dir = parent
	}
}

// Executable returns the path of one of our binaries, or an error saying how to build it.
func Executable(name string) (string, error) {
	path := filepath.Join(Bin(), name)
	if st, err := os.Stat(path); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s not found in %s (run `make build`, or set IPCLUSTER_BIN)", name, Bin())
	}
	return path, nil
}

// Cluster is a controller and its engines in one working directory.
type Cluster struct {
	Dir        string // working directory: logs, ipython dir, profile
	ProfileDir string
	ClusterID  string
	Controller *Proc
	Engines    []*Proc

	tag   string
	env   []string
	procs []*Proc
}

// New makes an empty cluster in dir (which must exist, e.g. t.TempDir()).
func New(dir, clusterID string) (*Cluster, error) {
	c := &Cluster{Dir: dir, ProfileDir: filepath.Join(dir, "profile_test"), ClusterID: clusterID}
	c.tag = fmt.Sprintf("gotest-%d-%d", os.Getpid(), time.Now().UnixNano())
	for _, sub := range []string{"logs", "ipython"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "IPP_") || name == "IPYTHONDIR" || name == TagVar {
			continue // they would change where our processes look for things
		}
		c.env = append(c.env, kv)
	}
	c.env = append(c.env, "IPYTHONDIR="+filepath.Join(dir, "ipython"), TagVar+"="+c.tag, "PYTHONUNBUFFERED=1")
	return c, nil
}

// ClientFile is the path of the client connection file.
func (c *Cluster) ClientFile() string {
	return profiles.ConnectionFile(c.ProfileDir, c.ClusterID, "client")
}

func (c *Cluster) clusterArgs() []string {
	return []string{"--profile-dir=" + c.ProfileDir, "--cluster-id=" + c.ClusterID}
}

// StartController starts a controller of the given kind with extra arguments (e.g.
// "--ping=500") and waits until its connection files are written.
func (c *Cluster) StartController(ctx context.Context, kind Kind, extra ...string) (*Proc, error) {
	var argv []string
	switch kind {
	case Go:
		path, err := Executable("ipcontroller")
		if err != nil {
			return nil, err
		}
		argv = []string{path}
	case PyKind:
		argv = []string{Python, "-m", "ipyparallel.controller"}
	default:
		return nil, fmt.Errorf("unknown controller kind %q", kind)
	}
	argv = append(append(append(argv, c.clusterArgs()...), "--ip=127.0.0.1"), extra...)
	p, err := c.spawn("controller", argv)
	if err != nil {
		return nil, err
	}
	c.Controller = p
	err = WaitUntil(ctx, 20*time.Millisecond, "controller connection files", func() (bool, error) {
		if p.Exited() {
			return false, p.exitError()
		}
		return profiles.ConnectionFilesWritten(c.ProfileDir, c.ClusterID), nil
	})
	return p, err
}

// StartEngines starts n engines of the given kind; they register by themselves.
func (c *Cluster) StartEngines(kind Kind, n int, extra ...string) ([]*Proc, error) {
	var argv []string
	switch kind {
	case Go:
		path, err := Executable("ipengine")
		if err != nil {
			return nil, err
		}
		argv = []string{path}
	case PyKind:
		argv = []string{Python, "-m", "ipyparallel.engine"}
	default:
		return nil, fmt.Errorf("unknown engine kind %q", kind)
	}
	argv = append(append(argv, c.clusterArgs()...), extra...)
	var started []*Proc
	for range n {
		p, err := c.spawn(fmt.Sprintf("engine%d", len(c.Engines)), argv)
		if err != nil {
			return started, err
		}
		c.Engines = append(c.Engines, p)
		started = append(started, p)
	}
	return started, nil
}

// CheckAlive returns an error (with the log tail) if the controller or an engine exited.
func (c *Cluster) CheckAlive() error {
	for _, p := range c.procs {
		if p.Exited() {
			return p.exitError()
		}
	}
	return nil
}

// Logs is the tail of every process's log, for failure messages.
func (c *Cluster) Logs() string {
	var b strings.Builder
	for _, p := range c.procs {
		state := "running"
		if p.Exited() {
			state = "exited: " + fmt.Sprint(p.err)
		}
		fmt.Fprintf(&b, "--- %s pid %d (%s) %s\n%s\n", p.Name, p.Pid(), state, p.LogPath, p.Tail(30))
	}
	return b.String()
}

// Stop ends every process: engines first, then the controller (SIGTERM to each process
// group, SIGKILL after a grace period), then anything else carrying the cluster's tag
// (nannies exit by themselves within a few seconds; stragglers are killed). It returns an
// error describing what had to be killed or could not be ended.
func (c *Cluster) Stop() error {
	var problems []string
	var engines []*Proc
	for _, p := range c.procs {
		if p != c.Controller {
			engines = append(engines, p)
		}
	}
	terminate(engines, 10*time.Second)
	if c.Controller != nil {
		if killed := terminate([]*Proc{c.Controller}, 10*time.Second); len(killed) > 0 {
			problems = append(problems, "controller needed SIGKILL")
		}
	}
	if left := sweep(c.tag, 10*time.Second); len(left) > 0 {
		problems = append(problems, "killed leftover processes: "+strings.Join(left, "; "))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// WaitUntil polls cond every interval until it reports true, returns an error, or ctx ends.
func WaitUntil(ctx context.Context, interval time.Duration, what string, cond func() (bool, error)) error {
	if err := wait.Until(ctx, interval, cond); err != nil {
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	return nil
}

// sweep waits up to grace for the processes tagged with tag to exit, then kills the rest.
func sweep(tag string, grace time.Duration) []string {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if WaitUntil(ctx, 50*time.Millisecond, "tagged processes", func() (bool, error) {
		return len(tagged(tag)) == 0, nil
	}) == nil {
		return nil
	}
	var killed []string
	for pid, cmdline := range tagged(tag) {
		syscall.Kill(pid, syscall.SIGKILL)
		killed = append(killed, strconv.Itoa(pid)+" "+cmdline)
	}
	return killed
}

// tagged lists live processes whose environment carries TagVar=tag.
func tagged(tag string) map[int]string {
	want := "\x00" + TagVar + "=" + tag + "\x00"
	found := map[int]string{}
	for _, pid := range procstat.PIDs() {
		if pid == os.Getpid() {
			continue
		}
		dir := filepath.Join("/proc", strconv.Itoa(pid))
		env, err := os.ReadFile(filepath.Join(dir, "environ"))
		if err != nil || !strings.Contains("\x00"+string(env)+"\x00", want) {
			continue
		}
		if p, err := procstat.Stat(pid); err == nil && !p.Live() {
			continue // a zombie waiting for its parent: already dead
		}
		cmd, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		found[pid] = strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))
	}
	return found
}
