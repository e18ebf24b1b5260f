package engine

import "fmt"

// Executor answers the code of execute_requests inside the engine's own process, in place
// of a shell: the engine still speaks the whole protocol (busy/idle statuses, stream
// output, execute_reply), but forks nothing. The engine swarm (bench/swarm) uses one to run
// thousands of engines in one process. Execute runs on the engine's loop, so it must be
// quick; it is called with the code of one request at a time.
type Executor interface {
	Execute(code string) Outcome
}

// Outcome is what an Executor's run of some code produced: its output and exit status (0:
// success, as a shell command's).
type Outcome struct {
	Stdout, Stderr string
	ExitCode       int
}

// ExecutorFunc lets a function be an Executor.
type ExecutorFunc func(code string) Outcome

// Execute calls f.
func (f ExecutorFunc) Execute(code string) Outcome { return f(code) }

// executeInProcess answers req with the configured Executor: its output as iopub stream
// messages, then the reply, which for a non-zero exit is the same error a failed command
// gets.
func (e *Engine) executeInProcess(req *request, code string) {
	out := e.cfg.Executor.Execute(code)
	for _, s := range []struct{ name, text string }{{"stdout", out.Stdout}, {"stderr", out.Stderr}} {
		if s.text != "" {
			e.publishValue("stream", req.raw.Header, map[string]any{"name": s.name, "text": s.text})
		}
	}
	if out.ExitCode == 0 {
		e.replyExecute(req, nil)
		return
	}
	evalue := fmt.Sprintf("command %s exited with status %d", quoteCommand(code), out.ExitCode)
	failure := errorContent(CommandErrorName, evalue, nil, e.engineInfo("execute"))
	failure["exit_code"] = out.ExitCode
	e.replyExecute(req, failure)
}
