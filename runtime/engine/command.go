package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"ipcluster/runtime/transport"
)

const (
	// pipeGrace bounds the wait for a command's output once its process group is gone: a
	// descendant that left the group (setsid) may still hold the pipes open.
	pipeGrace = time.Second
	// groupPoll is how often a process group is checked while it is being stopped.
	groupPoll = 20 * time.Millisecond
	// tailBytes of stderr are kept for the traceback of a failed command.
	tailBytes = 2048
	readChunk = 32 << 10
)

// job is one running command: a shell in its own process group whose stdout and stderr
// are pumped to iopub by two goroutines, and a third goroutine that waits for the exit.
type job struct {
	req  *request
	code string
	cmd  *exec.Cmd
	pgid int

	tail      tailBuffer // end of stderr, for the error reply
	stoppedBy string     // why the engine stopped it, if it did (loop only)
	killTimer *transport.Timer
	finished  bool // loop only
}

// exit is how a command ended, reported from the waiting goroutine to the loop.
type exit struct {
	state *os.ProcessState
	err   error
}

// startJob starts code under the configured shell, in its own process group (so that the
// command and everything it starts can be signalled and killed together), with stdin from
// /dev/null and the engine's identity in its environment.
func (e *Engine) startJob(req *request, code string) (*job, error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("stdout pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("stderr pipe: %w", err)
	}
	shell := e.cfg.Shell
	cmd := exec.Command(shell[0], append(append([]string(nil), shell[1:]...), code)...)
	cmd.Dir = e.cfg.WorkDir
	cmd.Env = e.commandEnv()
	cmd.Stdout, cmd.Stderr = outW, errW
	// Pdeathsig: if the engine itself is killed (SIGKILL), the shell does not outlive it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	outW.Close() // the child has its copies; ours would keep the pipes from reaching EOF
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("start %s: %w", strings.Join(shell, " "), err)
	}
	j := &job{req: req, code: code, cmd: cmd, pgid: cmd.Process.Pid}
	e.guardGroup(j.pgid)
	var pumps sync.WaitGroup
	pumps.Add(2)
	go j.pump(e, outR, "stdout", &pumps)
	go j.pump(e, errR, "stderr", &pumps)
	go j.wait(e, &pumps, outR, errR)
	e.log.Debug("command started", "pid", j.pgid, "msg_id", req.msgID)
	return j, nil
}

// commandEnv is the base environment with the engine's identity. The controller key
// (IPP_SESSION_KEY, IPP_CONNECTION_INFO) is not passed on: commands have no use for it.
func (e *Engine) commandEnv() []string {
	drop := map[string]bool{"IPP_ENGINE_ID": true, "IPP_ENGINE_UUID": true, "IPP_CLUSTER_ID": true,
		"IPP_SESSION_KEY": true, "IPP_CONNECTION_INFO": true}
	env := make([]string, 0, len(e.cfg.Env)+3)
	for _, kv := range e.cfg.Env {
		name, _, _ := strings.Cut(kv, "=")
		if !drop[name] {
			env = append(env, kv)
		}
	}
	return append(env, "IPP_ENGINE_ID="+strconv.Itoa(e.ID()), "IPP_ENGINE_UUID="+e.cfg.UUID, "IPP_CLUSTER_ID="+e.cfg.ClusterID)
}

// pump publishes what the command writes to one pipe as iopub stream messages, as it
// arrives. Text is cut at UTF-8 boundaries so that no character is split across messages.
func (j *job) pump(e *Engine, r *os.File, name string, pumps *sync.WaitGroup) {
	defer pumps.Done()
	defer r.Close()
	buf := make([]byte, readChunk)
	var pending []byte
	emit := func(data []byte) {
		if len(data) == 0 {
			return
		}
		if name == "stderr" {
			j.tail.Write(data)
		}
		text := string(data)
		e.loop.Post(func() {
			e.publishValue("stream", j.req.raw.Header, map[string]any{"name": name, "text": text})
		})
	}
	for {
		n, err := r.Read(buf)
		if n > 0 {
			data := append(pending, buf[:n]...)
			cut := completeRunes(data)
			emit(data[:cut])
			pending = append([]byte(nil), data[cut:]...)
		}
		if err != nil {
			emit(pending)
			return
		}
	}
}

// completeRunes returns the length of the longest prefix of data that does not end in the
// middle of a UTF-8 sequence.
func completeRunes(data []byte) int {
	for i := len(data) - 1; i >= 0 && i >= len(data)-utf8.UTFMax; i-- {
		if utf8.RuneStart(data[i]) {
			if utf8.FullRune(data[i:]) {
				return len(data)
			}
			return i
		}
	}
	return len(data)
}

// wait reaps the shell, stops what it left running in its process group, waits (bounded)
// for the last output, and hands the exit to the loop, after every stream message.
func (j *job) wait(e *Engine, pumps *sync.WaitGroup, pipes ...*os.File) {
	err := j.cmd.Wait()
	// The command is over: background children it left in its group go too, so that
	// nothing outlives the request (and the pipes they hold reach EOF).
	stopGroup(j.pgid, e.cfg.KillGrace, e.log)
	drained := make(chan struct{})
	go func() { pumps.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(pipeGrace):
		e.log.Warn("a process outside the command's process group still holds its output open; not waiting for it",
			"pid", j.pgid)
		for _, p := range pipes {
			p.Close() // unblocks the pumps' reads
		}
		<-drained
	}
	x := exit{state: j.cmd.ProcessState, err: err}
	e.loop.Post(func() { e.onJobDone(j, x) })
}

// signal sends sig to the command's whole process group.
func (j *job) signal(sig syscall.Signal) error {
	if err := syscall.Kill(-j.pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %s to process group %d: %w", signalName(sig), j.pgid, err)
	}
	return nil
}

// terminate stops the command on the engine's behalf: SIGTERM to its process group, then
// SIGKILL after the grace period. Called on the loop.
func (j *job) terminate(e *Engine, why string) {
	if j.finished || j.killTimer != nil {
		return
	}
	j.stoppedBy = why
	e.log.Info("stopping the running command", "pid", j.pgid, "why", why)
	j.signal(syscall.SIGTERM)
	j.signal(syscall.SIGCONT) // a stopped process acts on SIGTERM only once continued
	j.killTimer = e.loop.After(e.cfg.KillGrace, func() {
		if !j.finished {
			e.log.Warn("command ignored SIGTERM; killing it", "pid", j.pgid, "grace", e.cfg.KillGrace)
			j.signal(syscall.SIGKILL)
		}
	})
}

// stopGroup ends every process left in group pgid: SIGTERM, then SIGKILL after grace.
// Runs off the loop (it blocks for at most about grace + 1 s).
func stopGroup(pgid int, grace time.Duration, log *slog.Logger) {
	if !groupAlive(pgid) {
		return
	}
	log.Info("stopping processes the command left running", "pgid", pgid)
	syscall.Kill(-pgid, syscall.SIGTERM)
	syscall.Kill(-pgid, syscall.SIGCONT)
	if waitGroupGone(pgid, grace) {
		return
	}
	log.Warn("processes left by the command ignored SIGTERM; killing them", "pgid", pgid)
	syscall.Kill(-pgid, syscall.SIGKILL)
	if !waitGroupGone(pgid, time.Second) {
		log.Error("processes of the command survive SIGKILL", "pgid", pgid)
	}
}

func waitGroupGone(pgid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for groupAlive(pgid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(groupPoll)
	}
	return true
}

// groupAlive reports whether a live (non-zombie) process is in group pgid. It reads /proc
// because kill(-pgid, 0) also counts zombies, which an init that does not reap (common in
// containers) keeps forever.
func groupAlive(pgid int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return syscall.Kill(-pgid, 0) == nil
	}
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		if pg, state, ok := procGroup(pid); ok && pg == pgid && state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// procGroup reads the process group and state of pid from /proc/<pid>/stat.
func procGroup(pid int) (pgid int, state byte, ok bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 3 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	pg, err := strconv.Atoi(fields[2])
	return pg, fields[0][0], err == nil
}

// tailBuffer keeps the last tailBytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - tailBytes; over > 0 {
		t.buf = append([]byte(nil), t.buf[over:]...)
	}
}

// Lines returns up to n last complete-ish lines.
func (t *tailBuffer) Lines(n int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	text := strings.TrimRight(strings.ToValidUTF8(string(t.buf), "\uFFFD"), "\n")
	if text == "" {
		return nil
	}
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
