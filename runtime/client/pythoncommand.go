package client

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pythonCommandRunner is the Python program that runs a shell command on one of
// ipyparallel's Python engines as the Go engine (runtime/engine) runs it:
//   - /bin/sh -c in a session of its own, stdin from /dev/null;
//   - the engine's identity in the environment: IPP_ENGINE_ID and IPP_ENGINE_UUID from the
//     kernel (a task's engine is chosen by the scheduler, so only the engine knows them),
//     then the caller's variables on top;
//   - stdout and stderr written to the engine's sys.stdout and sys.stderr as they arrive,
//     so that they reach the client as the same stream messages;
//   - when the shell exits, what it left running in its process group is sent SIGTERM, and
//     the pipes are read for at most one more second (a child that left the group may hold
//     them open); then what is left in the group is killed. (The Go engine gives the group
//     its kill grace (kill_timeout, 3 s by default) before SIGKILL; here one second serves for both.)
//   - an interrupt (px or map stopped) kills the whole group at once;
//   - a failure is raised as CommandError worded as the Go engine words it ("command 'x'
//     exited with status 3", "... was killed by signal SIGTERM").
//
// It runs in a namespace of its own, leaving the user's namespace on the engine untouched.
const pythonCommandRunner = `import codecs, os, selectors, signal, subprocess, sys, time

class CommandError(Exception):
    pass

def killpg(pid, sig):
    try:
        os.killpg(pid, sig)
    except OSError:
        pass

def run(command, label, extra_env):
    env = dict(os.environ)
    try:
        from IPython import get_ipython
        kernel = get_ipython().kernel
        env["IPP_ENGINE_ID"] = str(kernel.engine_id)
        env["IPP_ENGINE_UUID"] = str(kernel.ident)
    except Exception:
        pass
    env.update(extra_env)
    proc = subprocess.Popen(["/bin/sh", "-c", command], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    sel = selectors.DefaultSelector()
    for pipe, stream in ((proc.stdout, sys.stdout), (proc.stderr, sys.stderr)):
        sel.register(pipe, selectors.EVENT_READ, (stream, codecs.getincrementaldecoder("utf-8")("replace")))
    grace_end = None
    try:
        while sel.get_map() and (grace_end is None or time.monotonic() < grace_end):
            for key, _ in sel.select(0.1):
                stream, decoder = key.data
                chunk = os.read(key.fd, 32768)
                if not chunk:
                    sel.unregister(key.fileobj)
                text = decoder.decode(chunk, not chunk)
                if text:
                    stream.write(text)
                    stream.flush()
            if grace_end is None and proc.poll() is not None:
                killpg(proc.pid, signal.SIGTERM)
                killpg(proc.pid, signal.SIGCONT)
                grace_end = time.monotonic() + 1
        code = proc.wait()  # the pipes may close before the shell exits
        killpg(proc.pid, signal.SIGKILL)  # what is left in its group after the grace
    except BaseException:
        killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    finally:
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
    if code > 0:
        raise CommandError("command %s exited with status %d" % (label, code))
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "signal %d" % -code
        raise CommandError("command %s was killed by signal %s" % (label, name))
`

// PythonCommand returns the code that runs the shell command on a Python engine as the Go
// engine would run it; label names the command in its error (engine.CommandLabel), and env
// is added to the environment (over the engine's identity, which the runner takes from
// the kernel). Failures are CommandError replies whose exit status PythonExitCode recovers.
func PythonCommand(command, label string, env map[string]string) string {
	if env == nil {
		env = map[string]string{}
	}
	// JSON strings are Python string literals (Go escapes nothing Python reads differently).
	lit := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	return fmt.Sprintf("exec(compile(%s + 'run(%%r, %%r, %%r)\\n' %% (%s, %s, %s), '<ipcluster command>', 'exec'), {'__name__': '__ipcluster_command__'})",
		lit(pythonCommandRunner), lit(command), lit(label), lit(env))
}

// pythonExitRE reads the runner's (and the Go engine's) CommandError wording; the label is
// one line, so the status is what ends the message.
var pythonExitRE = regexp.MustCompile(`^command .* exited with status (\d+)$|^command .* was killed by signal (SIG\w+|signal \d+)$`)

// PythonExitCode recovers the exit status from the runner's CommandError, in the Go
// engine's convention (minus the signal number for a signal); -1 if err is not one.
func PythonExitCode(err error) int {
	re, ok := err.(*RemoteError)
	if !ok || re.Name != "CommandError" {
		return -1
	}
	m := pythonExitRE.FindStringSubmatch(re.Value)
	switch {
	case m == nil:
		return -1
	case m[1] != "":
		n, _ := strconv.Atoi(m[1])
		return n
	}
	if num, ok := strings.CutPrefix(m[2], "signal "); ok {
		n, _ := strconv.Atoi(num)
		return -n
	}
	if sig := unix.SignalNum(m[2]); sig != 0 {
		return -int(sig)
	}
	return -1
}
