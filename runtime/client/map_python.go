package client

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
)

// mapRunner is the Python program a map task is on ipyparallel's Python engine: it runs
// the shell command as the Go engine would (/bin/sh -c in a session of its own, stdin from
// /dev/null, IPP_ENGINE_ID in the environment, taken from the kernel since the scheduler
// chose the engine), streams its output to the engine's stdout and stderr as it comes, and
// raises CommandError worded as the Go engine's error when it fails. An interrupt (the
// signal map sends when it is stopped) kills the command's whole process group. It runs in
// a namespace of its own, so the user's namespace on the engine is left alone.
const mapRunner = `import codecs, os, selectors, signal, subprocess, sys

class CommandError(Exception):
    pass

def run(command):
    env = dict(os.environ)
    try:
        from IPython import get_ipython
        kernel = get_ipython().kernel
        env["IPP_ENGINE_ID"] = str(kernel.engine_id)
        env["IPP_ENGINE_UUID"] = str(kernel.ident)
    except Exception:
        pass
    proc = subprocess.Popen(["/bin/sh", "-c", command], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    sel = selectors.DefaultSelector()
    for pipe, stream in ((proc.stdout, sys.stdout), (proc.stderr, sys.stderr)):
        sel.register(pipe, selectors.EVENT_READ, (stream, codecs.getincrementaldecoder("utf-8")("replace")))
    try:
        while sel.get_map():
            for key, _ in sel.select(0.2):
                stream, decoder = key.data
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                text = decoder.decode(chunk, not chunk)
                if text:
                    stream.write(text)
                    stream.flush()
            if proc.poll() is not None:
                try:  # what the command left running in its group goes with it
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
        code = proc.wait()
    except BaseException:
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
        raise CommandError("command exited with status %d" % code)
    if code < 0:
        raise CommandError("command was killed by signal %d" % -code)
`

// pythonMapCode is the code that runs command on a Python engine.
func pythonMapCode(command string) string {
	lit, _ := json.Marshal(command) // a JSON string is a Python string literal
	prog, _ := json.Marshal(mapRunner + "run(" + string(lit) + ")\n")
	return fmt.Sprintf("exec(compile(%s, '<ipcluster map>', 'exec'), {'__name__': '__ipcluster_map__'})", prog)
}

var pythonExitRE = regexp.MustCompile(`^command exited with status (\d+)$|^command was killed by signal (\d+)$`)

// pythonExitCode recovers the exit status from the runner's CommandError, in the Go
// engine's convention (minus the signal number for a signal); -1 if it is not one.
func pythonExitCode(err error) int {
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
	default:
		n, _ := strconv.Atoi(m[2])
		return -n
	}
}
