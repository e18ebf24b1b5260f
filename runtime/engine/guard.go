package engine

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// A SIGKILLed engine cannot stop what its command started: the shell dies with it
// (Pdeathsig), but the shell's own children would live on. So, when the first command
// starts, the engine starts a guard: a copy of its own program with GuardEnv set, reading
// "+pgid" and "-pgid" lines on a pipe whose write end only the engine holds. However the
// engine ends, the pipe reaches end of file, and the guard stops the process groups still
// listed (SIGTERM, then SIGKILL after the grace period), then exits.

// GuardEnv set to "1" makes the engine program run as a guard (see RunGuard).
const GuardEnv = "IPENGINE_GUARD"

// guard is the engine's end of its guard process (loop only).
type guard struct {
	cmd *exec.Cmd
	w   *os.File
}

// guardGroup tells the guard about a command's process group, starting the guard first if
// need be. Without a guard (none configured, or it failed to start) it does nothing more
// than log once: commands still run.
func (e *Engine) guardGroup(pgid int) {
	if e.guard == nil && !e.guardFailed && e.cfg.GuardProgram != "" {
		g, err := startGuard(e.cfg.GuardProgram, e.cfg.KillGrace)
		if err != nil {
			e.guardFailed = true
			e.log.Warn("no guard for commands: if this engine is killed with SIGKILL, what its command started may outlive it",
				"err", err)
		}
		e.guard = g
	}
	if e.guard != nil {
		fmt.Fprintf(e.guard.w, "+%d\n", pgid)
	}
}

// unguardGroup tells the guard a process group is gone.
func (e *Engine) unguardGroup(pgid int) {
	if e.guard != nil {
		fmt.Fprintf(e.guard.w, "-%d\n", pgid)
	}
}

// closeGuard ends the guard of an engine that is leaving in order (it has nothing to stop).
func (e *Engine) closeGuard() {
	if e.guard != nil {
		e.guard.w.Close()
		e.guard.cmd.Wait()
		e.guard = nil
	}
}

func startGuard(program string, grace time.Duration) (*guard, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(program)
	cmd.Env = []string{GuardEnv + "=1", "IPENGINE_GUARD_GRACE=" + grace.String()}
	cmd.Stdin, cmd.Stderr = r, os.Stderr
	// its own process group: a signal meant for the engine's group does not reach it
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("start guard %s: %w", program, err)
	}
	return &guard{cmd: cmd, w: w}, nil
}

// IsGuard says whether this process was started as a guard.
func IsGuard() bool { return os.Getenv(GuardEnv) == "1" }

// RunGuard is the guard's whole life: it reads the engine's "+pgid"/"-pgid" lines from in
// until end of file, then stops the process groups still listed.
func RunGuard(in io.Reader) {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP) // only end of file ends it
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("guard of engine", os.Getppid())
	grace, err := time.ParseDuration(os.Getenv("IPENGINE_GUARD_GRACE"))
	if err != nil || grace <= 0 {
		grace = 3 * time.Second
	}
	live := map[int]bool{}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 2 {
			continue
		}
		pgid, err := strconv.Atoi(line[1:])
		if err != nil || pgid <= 1 {
			continue
		}
		switch line[0] {
		case '+':
			live[pgid] = true
		case '-':
			delete(live, pgid)
		}
	}
	var wg sync.WaitGroup
	for pgid := range live {
		log.Warn("the engine ended with its command still running; stopping it", "pgid", pgid)
		wg.Go(func() { stopGroup(pgid, grace, log) })
	}
	wg.Wait()
}
