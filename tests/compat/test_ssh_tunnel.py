"""ipyparallel's manual, "Security details" / SSH tunnels, with Go engines and the Go client.

The manual: ``ipcontroller --enginessh=node1`` makes engines tunnel through node1, and
``ipcontroller --ssh=login.mycluster.com`` (or ``Client(..., sshserver=...)``) makes clients
tunnel through a login node. Here the controller (ours, or Python's with
IPP_TEST_CONTROLLER=python) binds 127.0.0.1; the test sshd (scripts/setup-sshd.sh,
127.0.0.1:2222, alias ipp-sshd) is the SSH server. Two Go engines tunnel through it from the
engine file's ssh; ipyparallel 7.1's Client with ``sshserver`` and ``ipcluster px --ssh`` both
run work through it.
"""

import os
import shutil
import signal
import subprocess

import pytest

import ippbench
from compat_util import wait_until

BIN = ippbench.ipcluster_bin()
GO_ENGINE = os.path.join(BIN, "ipengine")
IPCLUSTER = os.path.join(BIN, "ipcluster")
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir))
SSHD_DIR = os.environ.get("SSHD_DIR", "/tmp/ipcluster-sshd")
ALIAS = "ipp-sshd"
TIMEOUT = 60


@pytest.fixture
def sshd():
    """The test sshd, running (idempotent; `make test` stops it at the end if it started it)."""
    r = subprocess.run([os.path.join(ROOT, "scripts", "setup-sshd.sh")], capture_output=True, text=True)
    assert r.returncode == 0, f"scripts/setup-sshd.sh failed (run it as root on Debian 12):\n{r.stdout}{r.stderr}"
    return os.path.join(SSHD_DIR, "ssh_config")


@pytest.fixture
def tunnel_cluster(make_cluster, sshd, monkeypatch):
    """A controller on 127.0.0.1 with --enginessh, and the ssh setup both sides use:
    a home whose ~/.ssh/config has the alias (the Go programs read $HOME/.ssh/config), and an
    `ssh` first on PATH that adds -F (ipyparallel's tunnels run the ssh command, which reads
    the account's own ~/.ssh/config, not $HOME's, and which this test must not change)."""
    for exe in (GO_ENGINE, IPCLUSTER):
        assert os.access(exe, os.X_OK), f"{exe} does not exist (run `make build`, or set IPCLUSTER_BIN)"
    cl = make_cluster(n=0, start=False, controller_args=[f"--enginessh={ALIAS}"])
    home = os.path.join(cl.workdir, "home")
    os.makedirs(os.path.join(home, ".ssh"), mode=0o700)
    config = os.path.join(cl.workdir, "ssh_config")
    shutil.copy(sshd, config)
    shutil.copy(sshd, os.path.join(home, ".ssh", "config"))
    wrappers = os.path.join(cl.workdir, "sshbin")
    os.makedirs(wrappers)
    with open(os.path.join(wrappers, "ssh"), "w") as f:
        # trap: pyzmq closes its pexpect pty as soon as `ssh -f` goes to the background, and
        # the hangup can kill the backgrounded ssh before it leaves the terminal's session
        # (sshd.log: "Broken pipe" right after the login); an ignored SIGHUP survives exec.
        f.write(f'#!/bin/sh\ntrap "" HUP\nexec {shutil.which("ssh")} -F {config} "$@"\n')
    os.chmod(os.path.join(wrappers, "ssh"), 0o755)
    monkeypatch.setenv("PATH", wrappers + os.pathsep + os.environ["PATH"])
    cl.env = dict(cl.env, HOME=home)
    cl.start_controller()
    cl.wait_for_connection_files()
    yield cl
    # ipyparallel's tunnels are `ssh -f ... sleep 60` processes in the background: end them
    # (they carry our ssh_config path) before the cluster's check for leftovers.
    cl.close_clients()
    for pid, _ in ippbench.find_processes(needle=config):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    wait_until(lambda: not ippbench.find_processes(needle=config), 10, "the ssh tunnels to exit")


def logins():
    with open(os.path.join(SSHD_DIR, "sshd.log")) as f:
        return f.read().count("Accepted publickey for ipptest")


def test_go_engines_python_client_and_px_through_sshd(tunnel_cluster):
    cl = tunnel_cluster
    assert cl.connection_info("engine")["ssh"] == ALIAS
    before = logins()
    for i in range(2):
        cl.engines.append(cl.spawn(f"goengine{i}", [GO_ENGINE] + cl.cluster_args(), env=cl.env))

    # ipyparallel 7.1's Client, tunnelling through the same sshd
    c = cl.connect(timeout=TIMEOUT, sshserver=ALIAS)
    fut = c.wait_for_engines(2, timeout=TIMEOUT, block=False)
    wait_until(lambda: fut.done() or cl.check_alive(), TIMEOUT, "2 tunnelled Go engines", diagnostics=cl.diagnostics)
    assert sorted(c.ids) == [0, 1]
    ar = c[:].execute("echo tunnelled-$IPP_ENGINE_ID", block=True)
    assert ar.stdout == ["tunnelled-0\n", "tunnelled-1\n"]
    # one SSH connection per Go engine, and the Python client's own ssh processes
    assert logins() - before >= 3, "the engines and the client did not log in to the sshd"

    # our Go client, behind ipcluster px, through the same sshd
    px_before = logins()
    r = subprocess.run([IPCLUSTER, "px", f"--profile-dir={cl.profile_dir}", f"--cluster-id={cl.cluster_id}",
                        f"--ssh={ALIAS}", "--", "echo px-$IPP_ENGINE_ID"],
                       capture_output=True, text=True, env=cl.env, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == ["[0] px-0", "[1] px-1"]
    assert logins() - px_before == 1, "ipcluster px should tunnel over one SSH connection"
