package main

import (
	"encoding/json"
	"fmt"
	"strconv"

	"ipcluster/runtime/engine"
)

// pxRunner is the Python program that runs a shell command on one of ipyparallel's engines
// as the Go engine runs it: /bin/sh -c in its own session with stdin from /dev/null and
// the engine's identity in the environment; its stdout and stderr written to the engine's
// sys.stdout and sys.stderr as they arrive (so they reach the client as the same stream
// messages); a failure raised as CommandError with the Go engine's wording, so that px
// prints the same error and exits with the same status on both kinds of engine. It runs
// in a namespace of its own, leaving the user's namespace on the engine untouched.
const pxRunner = `import codecs, os, selectors, signal, subprocess, sys, time

class CommandError(Exception):
    pass

def run(command, label, extra_env):
    env = dict(os.environ)
    env.update(extra_env)
    proc = subprocess.Popen(command, shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    sel = selectors.DefaultSelector()
    for pipe, stream in ((proc.stdout, sys.stdout), (proc.stderr, sys.stderr)):
        sel.register(pipe, selectors.EVENT_READ, (stream, codecs.getincrementaldecoder("utf-8")("replace")))
    grace_end = None  # a background child may hold the pipes after the shell exits
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
                grace_end = time.monotonic() + 1
        code = proc.wait()
    except BaseException:  # interrupted: the command and what it started go too
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
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

// pythonPxCode is the code px sends to a Python engine to run command there.
func pythonPxCode(command string, engineID int, engineUUID, clusterID string) string {
	env := map[string]string{"IPP_ENGINE_ID": strconv.Itoa(engineID), "IPP_ENGINE_UUID": engineUUID, "IPP_CLUSTER_ID": clusterID}
	// JSON strings are Python string literals (Go escapes nothing Python reads differently).
	lit := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	return fmt.Sprintf("exec(compile(%s + 'run(%%r, %%r, %%r)\\n' %% (%s, %s, %s), '<ipcluster px>', 'exec'), {'__name__': '__ipcluster_px__'})",
		lit(pxRunner), lit(command), lit(engine.CommandLabel(command)), lit(env))
}
