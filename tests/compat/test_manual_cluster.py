"""ipyparallel's manual, followed word for word against our ipcluster and ipcontroller.

- docs/source/tutorial/intro.md: ``$ ipcluster start -n 4``, then
  ``rc[:].apply_sync(lambda: "Hello, World")`` gives four greetings. ipyparallel is
  installed here, so ``engine_kind = auto`` must choose its Python engines.
- docs/source/tutorial/process.md (restricted networks): ``ipcontroller`` by hand, then
  ``ipcluster engines --n=4``; `ipcluster list` shows the four engines and `ipcluster stop`
  stops them while the controller, which ipcluster did not start, keeps running.
- ``ipcluster px`` on Python engines: the same output, errors and exit status as on Go
  engines.

Each test has its own IPYTHONDIR; every process it starts carries IPCLUSTER_TEST_TAG, and
none may be left at the end.
"""

import json
import os
import re
import signal
import subprocess
import uuid

import ipyparallel as ipp
import pytest

import ippbench
from ippbench import wait_until

BIN = ippbench.ipcluster_bin()


class Shell:
    """Runs our commands as a user would in a terminal with IPYTHONDIR set."""

    def __init__(self, ipdir):
        self.ipdir = str(ipdir)
        self.tag = "manual-" + uuid.uuid4().hex[:12]
        self.env = {k: v for k, v in os.environ.items() if k not in ("IPP_PROFILE_DIR", "IPP_CLUSTER_ID")}
        self.env.update(IPYTHONDIR=self.ipdir, **{ippbench.TAG_VAR: self.tag})
        self.security = os.path.join(self.ipdir, "profile_default", "security")
        self.background = []

    def run(self, *argv, timeout=180):
        """`$ argv...` with our binaries first: returns (exit code, stdout + stderr)."""
        p = subprocess.run([os.path.join(BIN, argv[0]), *argv[1:]], env=self.env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode("utf8", "replace")

    def must(self, *argv, timeout=180):
        code, out = self.run(*argv, timeout=timeout)
        assert code == 0, f"$ {' '.join(argv)} exited {code}:\n{out}"
        return out

    def spawn(self, *argv):
        """`$ argv... &`, its output in a file."""
        log = open(os.path.join(os.path.dirname(self.ipdir), argv[0] + ".out"), "wb")  # beside IPYTHONDIR
        p = subprocess.Popen([os.path.join(BIN, argv[0]), *argv[1:]], env=self.env, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        p.log_path = log.name
        self.background.append(p)
        return p

    def output_of(self, p):
        with open(p.log_path, "rb") as f:
            return f.read().decode("utf8", "replace")

    def client(self, **kwargs):
        old = os.environ.get("IPYTHONDIR")
        os.environ["IPYTHONDIR"] = self.ipdir  # ipp.Client() finds the profile as a user's would
        try:
            return ipp.Client(**kwargs)
        finally:
            if old is None:
                del os.environ["IPYTHONDIR"]
            else:
                os.environ["IPYTHONDIR"] = old

    def leftovers(self):
        return ippbench.find_processes(tag=self.tag)

    def cleanup(self):
        self.run("ipcluster", "stop", "--all", timeout=120)
        for p in self.background:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        left = self.leftovers()
        for pid, _ in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return left


@pytest.fixture
def shell(tmp_path):
    sh = Shell(tmp_path / "ipython")
    yield sh
    left = sh.cleanup()
    assert not left, f"processes left behind: {left}"


def test_ipcluster_start_n4_then_hello_world(shell):
    # $ ipcluster start -n 4   (in the foreground, as the manual runs it)
    ipcluster = shell.spawn("ipcluster", "start", "-n", "4")
    wait_until(lambda: "engines: 4/4 registered" in shell.output_of(ipcluster) or ipcluster.poll() is not None,
               180, "4 engines", diagnostics=lambda: shell.output_of(ipcluster))
    out = shell.output_of(ipcluster)
    assert ipcluster.poll() is None, out
    assert re.search(r"engines: Python ipyparallel engine \(auto: \S+ imports ipyparallel [0-9.]+\)", out), out

    rc = shell.client()
    try:
        rc.wait_for_engines(n=4)
        assert rc.ids == [0, 1, 2, 3]
        # ipp.interactive: the lambda behaves as one typed at the prompt, as in the manual
        # (a function of this module would be sent by reference to a module the engines lack)
        assert rc[:].apply_sync(ipp.interactive(lambda: "Hello, World")) == \
            ['Hello, World', 'Hello, World', 'Hello, World', 'Hello, World']
    finally:
        rc.close()

    shell.must("ipcluster", "stop")
    assert ipcluster.wait(60) == 0, shell.output_of(ipcluster)  # the foreground ipcluster ends too
    # ipyparallel's engine nanny (in a session of its own) exits once it sees its engine gone
    wait_until(lambda: not shell.leftovers(), 30, "the cluster's processes to exit",
               diagnostics=lambda: repr(shell.leftovers()))
    wait_until(lambda: not shell.leftovers(), 30, "the cluster's processes to exit",
               diagnostics=lambda: repr(shell.leftovers()))


def test_ipcontroller_by_hand_then_ipcluster_engines(shell):
    code, out = shell.run("ipcluster", "engines", "--n=4")
    assert code != 0 and "start a controller" in out, out

    # [node1] $> ipcontroller
    controller = shell.spawn("ipcontroller")
    engine_file = os.path.join(shell.security, "ipcontroller-engine.json")
    wait_until(lambda: os.path.exists(engine_file) or controller.poll() is not None, 60,
               "the controller's connection files", diagnostics=lambda: shell.output_of(controller))
    assert controller.poll() is None, shell.output_of(controller)

    # [node3] $> ipcluster engines --n=4
    out = shell.must("ipcluster", "engines", "--n=4")
    assert "4 engines registered" in out, out

    listed = shell.must("ipcluster", "list")
    assert re.search(r"default\s+''\s+external, running\s+4/4\s", listed), listed
    status = json.loads(shell.must("ipcluster", "list", "-o", "json"))
    assert [s["engines_registered"] for s in status] == [4], status

    rc = shell.client()
    try:
        rc.wait_for_engines(n=4)
        assert rc[:].apply_sync(ipp.interactive(lambda: "Hello, World")) == ['Hello, World'] * 4
        out = shell.must("ipcluster", "stop")
        assert "keeps running" in out, out
        wait_until(lambda: rc.ids == [], 60, "the engines to unregister", diagnostics=lambda: repr(rc.ids))
    finally:
        rc.close()

    assert controller.poll() is None, "ipcluster stop stopped the controller it did not start"
    assert os.path.exists(engine_file), "ipcluster stop removed the controller's connection file"
    again = shell.client(timeout=10)  # the controller still answers
    assert again.ids == []
    again.close()
    wait_until(lambda: all("ipcontroller" in cmd for _, cmd in shell.leftovers()), 30,
               "the engines' processes to exit", diagnostics=lambda: repr(shell.leftovers()))

    controller.send_signal(signal.SIGTERM)
    assert controller.wait(30) is not None


def _px_by_engine(shell, command, targets):
    """`ipcluster px --targets=N -- command`: exit code and output with the engine id taken
    out, so that the lines of different engines can be compared."""
    code, out = shell.run("ipcluster", "px", f"--targets={targets}", "--", command)
    return code, re.sub(r"\[\d+\] (engine \d+: )?", "[id] ", out)


def test_px_on_python_engines_as_on_go_engines(shell):
    shell.must("ipcluster", "start", "-n", "1", "--engine-kind=python", "--daemonize")  # engine 0
    shell.must("ipcluster", "engines", "-n", "1", "--engine-kind=go")  # engine 1
    rc = shell.client()
    try:
        rc.wait_for_engines(n=2)
        assert rc[0].apply_sync(ipp.interactive(lambda: "python")) == "python"  # engine 0 runs Python, engine 1 shell commands
    finally:
        rc.close()

    cases = [
        "echo out; echo err >&2; printf 'no newline'",
        "for i in 1 2 3; do echo line $i; done; echo é",
        "echo before; exit 3",
        "kill -TERM $$",
    ]
    for command in cases:
        on_python = _px_by_engine(shell, command, 0)
        on_go = _px_by_engine(shell, command, 1)
        assert on_python == on_go, f"px -- {command!r}\npython engine: {on_python}\ngo engine: {on_go}"

    code, out = _px_by_engine(shell, "echo before; exit 3", 0)
    assert code == 1, out
    assert "[id] before\n" in out and "[id] CommandError: command 'echo before; exit 3' exited with status 3" in out, out

    # the streams stay apart: stdout to stdout, stderr to stderr
    p = subprocess.run([os.path.join(BIN, "ipcluster"), "px", "--targets=0", "--", "echo to-out; echo to-err >&2"],
                       env=shell.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.stdout.decode() == "[0] to-out\n" and p.stderr.decode() == "[0] to-err\n", p

    shell.must("ipcluster", "stop")
    # ipyparallel's engine nanny (in a session of its own) exits once it sees its engine gone
    wait_until(lambda: not shell.leftovers(), 30, "the cluster's processes to exit",
               diagnostics=lambda: repr(shell.leftovers()))
