package client

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"ipcluster/internal/shellquote"
	"ipcluster/runtime/engine"
)

// Defaults of MapOptions.
const (
	DefaultMapInFlightPerEngine = 8
	DefaultMapStopGrace         = 5 * time.Second
)

// MapTask is one input of Map.
type MapTask struct {
	Seq   int    // sequence number ({#}), from 1
	Input string // the input ({})
}

// MapOptions shape a Map run; Command is required.
type MapOptions struct {
	Command CommandTemplate

	// Retries is how many times a failed task runs again. Each retry is a new load-balanced
	// task that avoids the engines it already failed on (while others are left), as the
	// controller's own retries do; resubmitting here rather than there lets the journal
	// say how many attempts a task took and where the last one ran.
	Retries int

	// Timeout bounds each attempt's run on its engine (0: none). The engine runs the
	// command under coreutils' timeout, which stops its process group with SIGTERM and,
	// 5 s later, SIGKILL; the attempt then fails with exit status 124 (137 if killed).
	Timeout time.Duration

	// MaxInFlight bounds the tasks submitted and not yet finished (default
	// DefaultMapInFlightPerEngine per engine). The rest wait in this process, not in the
	// controller, so that an interrupt has little to abort.
	MaxInFlight int

	// StopGrace is how long running commands get after SIGTERM, when Map is interrupted,
	// before SIGKILL (default DefaultMapStopGrace).
	StopGrace time.Duration

	// OnProgress, if set, is called (from Map's goroutine) whenever a task is submitted
	// or finishes.
	OnProgress func(MapProgress)
}

// MapProgress counts the tasks of a Map run.
type MapProgress struct {
	Total   int // tasks given to Map
	Done    int // finished, succeeded or not
	Failed  int // finished and failed (after all retries)
	Running int // submitted and not finished (queued in the controller or running)
}

// MapResult is how one task ended.
type MapResult struct {
	MapTask
	Command  string // the shell command line it ran
	EngineID int    // engine of the last attempt; -1 if none ran it
	Host     string // that engine's host name, if known
	Start    time.Time
	End      time.Time
	ExitCode int // 0 on success; the command's status; minus the signal; -1 if none
	Attempts int
	TimedOut bool // the last attempt ran out of MapOptions.Timeout
	// Interrupted: the task was aborted or stopped because Map's context ended.
	Interrupted    bool
	Stdout, Stderr string // output of the last attempt
	Err            error  // nil on success
}

// attempt is one submission of a task.
type attempt struct {
	task     MapTask
	number   int   // from 1
	failedOn []int // engines where earlier attempts failed
	python   bool  // sent to a Python engine (the code differs)
	fut      *Future
	res      Result
	err      error
}

// Map runs the command once per task as load-balanced tasks through the controller's
// scheduler, at most MaxInFlight at a time, retrying failures, and calls report (from
// Map's goroutine, so it needs no lock) as each task finishes. Go engines run the command
// themselves; Python engines run it in a subprocess. Map returns once every task has been
// reported, with an error only if it could not go on: when ctx ends it aborts the tasks
// queued in the controller, stops the running commands (SIGTERM, then SIGKILL after
// StopGrace), reports what ended, and returns ctx's cause.
func (c *Client) Map(ctx context.Context, tasks []MapTask, opts MapOptions, report func(MapResult)) error {
	if opts.Command.Empty() {
		return fmt.Errorf("map: no command")
	}
	m, err := newMapper(ctx, c, opts, len(tasks))
	if err != nil {
		return err
	}
	m.report = report
	return m.run(ctx, tasks)
}

type mapper struct {
	c      *Client
	opts   MapOptions
	report func(MapResult)
	kinds  *engineKinds
	prog   MapProgress

	inflight map[*attempt]bool
	finished chan *attempt
	retry    []*attempt
}

func newMapper(ctx context.Context, c *Client, opts MapOptions, total int) (*mapper, error) {
	kinds, err := newEngineKinds(ctx, c)
	if err != nil {
		return nil, err
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMapInFlightPerEngine * max(1, len(c.IDs()))
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = DefaultMapStopGrace
	}
	return &mapper{
		c: c, opts: opts, kinds: kinds,
		prog:     MapProgress{Total: total},
		inflight: map[*attempt]bool{},
		finished: make(chan *attempt, opts.MaxInFlight),
	}, nil
}

func (m *mapper) progress() {
	m.prog.Running = len(m.inflight)
	if m.opts.OnProgress != nil {
		m.opts.OnProgress(m.prog)
	}
}

func (m *mapper) run(ctx context.Context, tasks []MapTask) error {
	next := 0
	for {
		for len(m.inflight) < m.opts.MaxInFlight && (len(m.retry) > 0 || next < len(tasks)) {
			var a *attempt
			if len(m.retry) > 0 {
				a, m.retry = m.retry[0], m.retry[1:]
			} else {
				a = &attempt{task: tasks[next], number: 1}
				next++
			}
			if err := m.submit(ctx, a); err != nil {
				if ctx.Err() != nil {
					break
				}
				if errors.Is(err, ErrClosed) {
					m.retry = append(m.retry, a)
					return m.abandon(fmt.Errorf("map: %w", err))
				}
				m.fail(a, err) // the attempt could not be sent (its targets left): counts as a failure
				continue
			}
		}
		m.progress()
		if len(m.inflight) == 0 && len(m.retry) == 0 && next == len(tasks) {
			return nil
		}
		select {
		case a := <-m.finished:
			delete(m.inflight, a)
			m.settle(a)
			if errors.Is(a.err, ErrClosed) {
				return m.abandon(fmt.Errorf("map: %w", a.err))
			}
		case <-ctx.Done():
			return m.interrupt(context.Cause(ctx))
		}
	}
}

// submit sends an attempt to an engine of the kind it picks.
func (m *mapper) submit(ctx context.Context, a *attempt) error {
	python, targets := m.kinds.place(ctx, a.failedOn, m.inflight)
	a.python = python
	code := m.commandLine(a.task)
	if python {
		code = PythonCommand(code, engine.CommandLabel(code), nil)
	}
	f, err := m.c.Submit(ctx, code, TaskOptions{Targets: targets})
	if err != nil {
		return err
	}
	a.fut = f
	m.inflight[a] = true
	go func() {
		a.res, a.err = f.Wait(context.Background()) // ends when the reply comes or the client stops
		m.finished <- a
	}()
	return nil
}

// commandLine is the shell command of a task, under timeout(1) if it has a time limit.
func (m *mapper) commandLine(t MapTask) string {
	cmd := m.opts.Command.Expand(t.Input, t.Seq)
	if m.opts.Timeout <= 0 {
		return cmd
	}
	secs := strconv.FormatFloat(m.opts.Timeout.Seconds(), 'f', -1, 64)
	return "exec timeout -k 5 " + secs + " /bin/sh -c " + shellquote.Quote(cmd)
}

// settle decides what a finished attempt means: success, another attempt, or failure.
func (m *mapper) settle(a *attempt) {
	if a.err == nil {
		m.deliver(a, false)
		return
	}
	if a.number <= m.opts.Retries && !errors.Is(a.err, ErrClosed) {
		retry := &attempt{task: a.task, number: a.number + 1, failedOn: a.failedOn}
		if a.res.EngineID >= 0 {
			retry.failedOn = append(append([]int(nil), a.failedOn...), a.res.EngineID)
		}
		m.retry = append(m.retry, retry)
		return
	}
	m.deliver(a, false)
}

// fail reports an attempt that could not be submitted.
func (m *mapper) fail(a *attempt, err error) {
	a.res = Result{EngineID: -1, ExitCode: -1, Submitted: time.Now(), Received: time.Now()}
	a.err = err
	m.deliver(a, false)
}

// deliver reports the task of a's attempt as finished.
func (m *mapper) deliver(a *attempt, interrupted bool) {
	r := MapResult{
		MapTask: a.task, Command: m.commandLine(a.task), EngineID: a.res.EngineID,
		Start: a.res.Started, End: a.res.Received, ExitCode: a.res.ExitCode, Attempts: a.number,
		Interrupted: interrupted && a.err != nil, Stdout: a.res.Stdout, Stderr: a.res.Stderr, Err: a.err,
	}
	if r.Start.IsZero() {
		r.Start = a.res.Submitted
	}
	if r.End.IsZero() {
		r.End = time.Now()
	}
	if a.err != nil && a.python && r.ExitCode == -1 {
		r.ExitCode = PythonExitCode(a.err)
	}
	if a.err != nil && m.opts.Timeout > 0 && (r.ExitCode == 124 || r.ExitCode == 137) &&
		a.res.Received.Sub(a.res.Submitted) >= m.opts.Timeout {
		r.TimedOut = true
	}
	if r.EngineID >= 0 {
		r.Host = m.kinds.host(r.EngineID)
	}
	m.prog.Done++
	if r.Err != nil {
		m.prog.Failed++
	}
	if m.report != nil {
		m.report(r)
	}
}

// abandon reports everything outstanding as failed, once the client stopped (every
// Wait then returns at once), and returns err.
func (m *mapper) abandon(err error) error {
	for len(m.inflight) > 0 {
		a := <-m.finished
		delete(m.inflight, a)
		m.deliver(a, false)
	}
	for _, a := range m.retry {
		a.res = Result{EngineID: -1, ExitCode: -1}
		a.err = err
		m.deliver(a, false)
	}
	m.retry = nil
	m.progress()
	return err
}
