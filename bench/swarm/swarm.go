package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"ipcluster/profiles"
	"ipcluster/runtime/engine"
)

// swarm is n real engines in this process: each one an engine.Engine with its own
// registration, heartbeat, shell, control and iopub connections, whose execute requests an
// in-process executor answers (no shell, no fork). The controller cannot tell them from
// ipengine.
type swarm struct {
	engines []*engine.Engine
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu     sync.Mutex
	failed []error // engines whose Run ended before Stop, with why
}

// startSwarm starts n engines at once (a registration storm, like `mpiexec -n N ipengine`)
// against the controller of info. regTimeout is each engine's registration timeout.
func startSwarm(info profiles.EngineInfo, n int, regTimeout time.Duration, log *slog.Logger) (*swarm, error) {
	workDir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	env := []string{} // no commands run: the executor needs no environment
	s := &swarm{engines: make([]*engine.Engine, n)}
	for i := range s.engines {
		e, err := engine.New(engine.Config{Info: info, WorkDir: workDir, Env: env, RegistrationTimeout: regTimeout,
			Executor: engine.ExecutorFunc(runCode), Logger: log})
		if err != nil {
			return nil, fmt.Errorf("engine %d of the swarm: %w", i, err)
		}
		s.engines[i] = e
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	for _, e := range s.engines {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			err := e.Run(ctx)
			if ctx.Err() == nil { // ended by itself: shut down by the controller, or failed
				if err == nil {
					err = errors.New("shut down by the controller")
				}
				s.mu.Lock()
				s.failed = append(s.failed, err)
				s.mu.Unlock()
			}
		}()
	}
	return s, nil
}

// registered is how many engines have their registration_reply (an id).
func (s *swarm) registered() int {
	n := 0
	for _, e := range s.engines {
		if e.ID() >= 0 {
			n++
		}
	}
	return n
}

// failures returns the engines that stopped by themselves so far, and the first reason.
func (s *swarm) failures() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failed) == 0 {
		return 0, nil
	}
	return len(s.failed), s.failed[0]
}

// stop makes every engine unregister and leave, and waits for them.
func (s *swarm) stop() {
	s.cancel()
	s.wg.Wait()
}

// runCode is what the swarm's engines do with code: `echo WORDS` prints the words, `exit N`
// fails with status N, anything else succeeds silently.
func runCode(code string) engine.Outcome {
	code = strings.TrimSpace(code)
	if words, ok := strings.CutPrefix(code, "echo "); ok {
		return engine.Outcome{Stdout: strings.TrimSpace(words) + "\n"}
	}
	if status, ok := strings.CutPrefix(code, "exit "); ok {
		n, err := strconv.Atoi(strings.TrimSpace(status))
		if err != nil {
			return engine.Outcome{Stderr: "exit: bad status " + status + "\n", ExitCode: 2}
		}
		return engine.Outcome{ExitCode: n}
	}
	return engine.Outcome{}
}
