package clienttest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Proc is a process started by a Cluster, leading its own process group.
type Proc struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has been reaped
	err     error         // how it exited; read after exited is closed
}

// spawn starts argv in a new process group, stdout and stderr to logs/<name>.log, and
// reaps it in a goroutine (which ends when the process does).
func (c *Cluster) spawn(name string, argv []string) (*Proc, error) {
	logPath := filepath.Join(c.Dir, "logs", name+".log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close() // the child has its own copy
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, LogPath: logPath, cmd: cmd, exited: make(chan struct{})}
	c.procs = append(c.procs, p)
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Pid is the process id (also its process group id).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Wait waits for the process to end, or ctx.
func (p *Proc) Wait(ctx context.Context) error {
	select {
	case <-p.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s (pid %d) still running: %w", p.Name, p.Pid(), ctx.Err())
	}
}

// Signal sends sig to the process group.
func (p *Proc) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return nil
	}
	if err := syscall.Kill(-p.Pid(), sig); err != nil && err != syscall.ESRCH {
		return fmt.Errorf("signal %s: %w", p.Name, err)
	}
	return nil
}

func (p *Proc) exitError() error {
	return fmt.Errorf("%s (pid %d) exited (%v); last lines of %s:\n%s", p.Name, p.Pid(), p.err, p.LogPath, p.Tail(30))
}

// Tail returns the last n lines of the process's log.
func (p *Proc) Tail(n int) string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// terminate sends SIGTERM to each process group, waits up to grace, then SIGKILLs the
// groups (also sweeping children left in the group of a process that did exit) and reaps.
// It returns the processes that needed SIGKILL.
func terminate(procs []*Proc, grace time.Duration) (killed []*Proc) {
	for _, p := range procs {
		p.Signal(syscall.SIGTERM)
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	for _, p := range procs {
		select {
		case <-p.exited:
		case <-deadline.C:
			deadline.Reset(0) // expired: do not wait for the others either
		}
	}
	for _, p := range procs {
		if !p.Exited() {
			killed = append(killed, p)
		}
		syscall.Kill(-p.Pid(), syscall.SIGKILL)
	}
	for _, p := range procs {
		<-p.exited // SIGKILL cannot be ignored: this does not hang
	}
	return killed
}
