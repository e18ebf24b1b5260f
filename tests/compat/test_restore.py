"""ipcontroller --restore after the controller was killed: the engines it had (a Go engine and
a Python ipengine) are registered again under their old ids and run work, as with
ipyparallel's restore_engines."""

import os
import signal
import subprocess

import ipyparallel as ipp

import ippbench
from compat_util import skip_if_python, wait_until

TIMEOUT = 60


def _spawn(argv, log):
    env = {k: v for k, v in os.environ.items() if k not in ("IPP_PROFILE_DIR", "IPP_CLUSTER_ID", "IPP_SESSION_KEY")}
    return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


def test_restore_takes_back_go_and_python_engines(tmp_path):
    skip_if_python("starts $IPCLUSTER_BIN/ipcontroller itself")
    bin_dir = ippbench.ipcluster_bin()
    profile = str(tmp_path / "profile")
    ctl_args = [os.path.join(bin_dir, "ipcontroller"), "--profile-dir=" + profile, "--ip=127.0.0.1", "--restore", "--ping=500"]
    client_file = os.path.join(profile, "security", "ipcontroller-client.json")
    procs = []

    def spawn(argv, name):
        p = _spawn(argv, open(tmp_path / (name + ".log"), "w"))
        procs.append(p)
        return p

    def client_with(n):
        c = ipp.Client(client_file)
        c.wait_for_engines(n, timeout=TIMEOUT)
        return c

    try:
        first = spawn(ctl_args, "controller1")
        wait_until(lambda: os.path.exists(client_file), TIMEOUT, "the client connection file")
        go = spawn([os.path.join(bin_dir, "ipengine"), "--profile-dir=" + profile], "goengine")
        c = client_with(1)
        py = spawn([ippbench.PY, "-m", "ipyparallel.engine", "--profile-dir=" + profile], "pyengine")
        wait_until(lambda: len(c.ids) == 2, TIMEOUT, "two engines")
        assert c.ids == [0, 1]
        c.close()

        first.send_signal(signal.SIGKILL)
        first.wait(TIMEOUT)
        second = spawn(ctl_args, "controller2")
        c = client_with(2)
        assert c.ids == [0, 1]
        # The reply comes over the engine's shell socket, which queues until it reconnects;
        # its output comes over iopub, a PUB that drops what it sends before the new
        # controller's subscription arrives. So wait until output flows again.
        def echoed():
            ar = c[0].execute("echo restored", block=False)
            ar.get(TIMEOUT)
            return ar.stdout == "restored\n"

        wait_until(echoed, TIMEOUT, "the restored Go engine's output to reach the client", interval=0.2)
        assert c[1].apply_sync(os.getpid) == py.pid
        c.close()
        assert go.poll() is None and py.poll() is None
        assert second.poll() is None
        log = (tmp_path / "controller2.log").read_text()
        assert "restored engines" in log and "does not know" not in log
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
