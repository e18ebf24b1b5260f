package launchers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"ipcluster/internal/wait"
)

// processes spawns local processes, each in its own process group with its output in a
// file, and reaps the ones this process started (others are watched through /proc).
type processes struct {
	mu       sync.Mutex
	children map[int]*child
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
	stopGrace time.Duration
	kill      func(pid int, sig syscall.Signal) error // syscall.Kill; tests make it fail
}

type child struct {
	done chan struct{}
	code int // exit code; 128+signal when killed
}

func newProcesses() *processes {
	return &processes{children: map[int]*child{}, stopGrace: 5 * time.Second, kill: syscall.Kill}
}

// spawn starts argv with its output appended to output, in a new process group.
func (p *processes) spawn(argv []string, env map[string]string, dir, output string) (Process, error) {
	if len(argv) == 0 {
		return Process{}, errors.New("empty command")
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return Process{}, fmt.Errorf("cannot run %s: %w", argv[0], err)
	}
	out, err := os.OpenFile(output, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return Process{}, fmt.Errorf("open output file: %w", err)
	}
	defer out.Close()
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// Own session and process group: Ctrl-C in the terminal reaches only ipcluster, which
	// stops the group deliberately, and a daemonized cluster survives the terminal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return Process{}, fmt.Errorf("start %s: %w", argv[0], err)
	}
	c := &child{done: make(chan struct{})}
	p.mu.Lock()
	p.children[cmd.Process.Pid] = c
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		c.code = exitCode(cmd.ProcessState, err)
		close(c.done)
	}()
	start, _ := procStartTime(cmd.Process.Pid)
	return Process{PID: cmd.Process.Pid, StartTime: start, Output: output}, nil
}

func exitCode(st *os.ProcessState, err error) int {
	if st == nil {
		return -1
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

// alive reports whether proc still runs, and its exit code when it ended as our child.
func (p *processes) alive(proc Process) (running bool, code *int) {
	p.mu.Lock()
	c := p.children[proc.PID]
	p.mu.Unlock()
	if c != nil {
		select {
		case <-c.done:
			code := c.code
			return false, &code
		default:
			return true, nil
		}
	}
	start, err := procStartTime(proc.PID)
	if err != nil || proc.StartTime != 0 && start != proc.StartTime {
		return false, nil // gone, or the pid now belongs to another process
	}
	return true, nil
}

// signal sends sig to proc's process group (which holds its children too).
func (p *processes) signal(proc Process, sig syscall.Signal) error {
	if running, _ := p.alive(proc); !running {
		return nil
	}
	if err := p.kill(-proc.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %d to process group %d: %w", sig, proc.PID, err)
	}
	return nil
}

// stop sends SIGTERM to each process group, waits up to stopGrace for them, then SIGKILLs
// what is left. It reports the processes it could not signal (another user's) and those
// still running after SIGKILL: Stop must not claim they are gone.
func (p *processes) stop(ctx context.Context, procs []Process) error {
	var errs []error
	for _, proc := range procs {
		errs = append(errs, p.signal(proc, syscall.SIGTERM))
	}
	allGone := func() (bool, error) { return len(p.running(procs)) == 0, nil }
	grace, cancel := context.WithTimeout(ctx, p.stopGrace) // ctx ending: SIGKILL at once
	defer cancel()
	wait.Until(grace, 20*time.Millisecond, allGone)
	for _, proc := range p.running(procs) {
		errs = append(errs, p.signal(proc, syscall.SIGKILL))
	}
	// After SIGKILL the group is gone at once, but reaping is asynchronous; wait for it so
	// that no zombie outlives Stop.
	reap, cancelReap := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancelReap()
	wait.Until(reap, 10*time.Millisecond, allGone)
	for _, proc := range p.running(procs) {
		errs = append(errs, fmt.Errorf("process %d still runs after SIGKILL", proc.PID))
	}
	for _, proc := range procs {
		p.kill(-proc.PID, syscall.SIGKILL) // stray members of the group, if any
	}
	return errors.Join(errs...)
}

// running are the processes of procs that still run.
func (p *processes) running(procs []Process) []Process {
	var out []Process
	for _, proc := range procs {
		if running, _ := p.alive(proc); running {
			out = append(out, proc)
		}
	}
	return out
}

// procStartTime reads a process's start time (clock ticks since boot) from /proc; it fails
// for a process that does not exist or is a zombie.
func procStartTime(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// the command name (field 2) may contain spaces and parentheses: parse after the last ')'
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	if fields[0] == "Z" || fields[0] == "X" {
		return 0, fmt.Errorf("process %d has exited", pid)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return lastLines(string(data), n)
}

// lastLines is the last n lines of text.
func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
