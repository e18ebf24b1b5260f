"""A controller as the manual's users meet it: started by hand with a wrong address or a busy
port (a one-line error, not a crash), asked about queues before any engine came, and turned
into a dask scheduler with Client.become_dask()/stop_dask().

Dask: ipyparallel 7.1's engine side of become_dask (become_dask_worker) fails with Debian's
distributed 2022.12 whatever the controller (``Server.__init__() got an unexpected keyword
argument 'ncores'``), so the controller's side is checked as a user would: its reply, a
distributed.Client reaching the scheduler, a worker started by hand running work, and
Client.stop_dask() stopping the scheduler.
"""

import os
import signal
import socket
import subprocess
import tempfile

import ipyparallel as ipp
import pytest

import ippbench
from compat_util import KIND, remote_error_name, skip_if_python, wait_until

PY = ippbench.PY


def _ours(name):
    return os.path.join(ippbench.ipcluster_bin(), name)


def _run(argv, ipython_dir, timeout=60, env=None):
    full_env = {k: v for k, v in os.environ.items() if k not in ("IPP_PROFILE_DIR", "IPP_CLUSTER_ID", "IPP_SESSION_KEY")}
    full_env["IPYTHONDIR"] = ipython_dir
    full_env.update(env or {})
    return subprocess.run(argv, env=full_env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def _files_under(path):
    found = []
    for root, _, files in os.walk(path):
        found += [os.path.join(root, f) for f in files]
    return found


def _assert_one_line_bind_error(proc, ipython_dir, *expected):
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("ipcontroller: cannot bind "), lines[0]
    for want in expected:
        assert want in lines[0], lines[0]
    profile = os.path.join(ipython_dir, "profile_default")
    assert _files_under(os.path.join(profile, "security")) == []
    assert _files_under(os.path.join(profile, "pid")) == []


def test_ipcontroller_address_not_on_this_host(tmp_path):
    proc = _run([_ours("ipcontroller"), "--ip=192.0.2.1"], str(tmp_path))
    _assert_one_line_bind_error(proc, str(tmp_path), "tcp://192.0.2.1:0 (registration)",
                                "the address is not on this host", "--ip=127.0.0.1")


def test_ipcontroller_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _run([_ours("ipcontroller"), f"--ports={port}"], str(tmp_path))
    _assert_one_line_bind_error(proc, str(tmp_path), f"tcp://127.0.0.1:{port} (registration)",
                                "address already in use")


def test_ipcluster_start_shows_the_controllers_error_and_a_hint(tmp_path):
    env = {"PATH": ippbench.ipcluster_bin() + os.pathsep + os.environ.get("PATH", "")}
    proc = _run([_ours("ipcluster"), "start", "-n", "1", "--ip=192.0.2.1"], str(tmp_path), env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "ipcontroller: cannot bind tcp://192.0.2.1:0 (registration)" in out, out
    assert "hint:" in out, out
    assert "panic" not in out and "goroutine" not in out, out


def test_queue_status_with_no_engines(make_cluster):
    client = make_cluster(n=0).clients[0]
    assert client.queue_status() == {"unassigned": 0}
    assert client.queue_status(verbose=True) == {"unassigned": []}


def _become_dask(client, **scheduler_args):
    """The controller's part of Client.become_dask(): its first request, sent the same way."""
    reply = client._send_recv(client._query_stream, "become_dask_request",
                              {"scheduler_args": scheduler_args})
    return reply["content"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port):
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _scheduler_pids(cluster):
    """Our controller's dask scheduler processes (children running distributed.Scheduler)."""
    return [pid for pid in ippbench.children_of(cluster.controller.pid)
            if "Scheduler" in ippbench.proc_cmdline(pid)]


def test_become_dask_then_stop_dask(make_cluster):
    distributed = pytest.importorskip("distributed")
    cluster = make_cluster(n=1)
    client = cluster.clients[0]
    port = _free_port()
    info = _become_dask(client, port=port, dashboard_address=":0")  # scheduler_args reach the Scheduler
    assert info["status"] == "ok", info
    assert set(info) == {"status", "ip", "address", "port"}
    assert info["port"] == port
    assert info["address"].startswith("tcp://") and info["address"].endswith(f":{port}")
    if KIND == "ours":
        assert info["ip"] == "127.0.0.1"  # where our controller listens
        pids = _scheduler_pids(cluster)
        assert len(pids) == 1, pids
    # asking again gives the same scheduler
    assert _become_dask(client) == info

    worker = subprocess.Popen(
        [PY, "-m", "distributed.cli.dask_worker", info["address"], "--nthreads=1", "--no-nanny",
         "--no-dashboard"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, env=cluster.env)
    try:
        with distributed.Client(info["address"], timeout=30) as dask_client:
            dask_client.wait_for_workers(1, timeout=60)
            assert dask_client.submit(sum, [1, 2, 3]).result(timeout=30) == 6
            assert dask_client.gather(dask_client.map(pow, range(5), [2] * 5)) == [0, 1, 4, 9, 16]
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    client.stop_dask()  # the real Client call: the controller's stop, then the engines'
    if KIND == "ours":
        # (ipyparallel 7.1's hub calls distributed 2022.12's async Scheduler.close() without
        # awaiting it, so its scheduler keeps listening: this check is ours only)
        assert not _accepts(port), "the scheduler still listens after stop_dask()"
        assert not any(ippbench.pid_alive(pid) for pid in pids), "scheduler process still running"
    # stopping twice is fine, as with ipyparallel
    client.stop_dask()


def test_controller_sigterm_stops_its_dask_scheduler(make_cluster):
    skip_if_python("the Python hub runs its scheduler in its own process")
    pytest.importorskip("distributed")
    cluster = make_cluster(n=0)
    info = _become_dask(cluster.clients[0], dashboard_address=":0")
    assert info["status"] == "ok", info
    pids = _scheduler_pids(cluster)
    assert len(pids) == 1, pids
    os.kill(cluster.controller.pid, signal.SIGTERM)  # the controller alone, not its group
    cluster.controller.popen.wait(timeout=30)
    assert cluster.controller.popen.returncode == 0
    wait_until(lambda: not ippbench.pid_alive(pids[0]), 10, "the dask scheduler to exit with its controller")
    assert not _accepts(info["port"])


def test_become_dask_without_dask_says_how_to_get_it(make_cluster):
    skip_if_python("IPCLUSTER_PYTHON chooses the Python of our controller")
    cluster = make_cluster(n=0, start=False)
    cluster.env["IPCLUSTER_PYTHON"] = "none"
    cluster.start()
    with pytest.raises(ipp.RemoteError) as err:
        cluster.clients[0].become_dask()
    assert remote_error_name(err.value) == "ModuleNotFoundError"
    message = str(err.value.evalue)
    assert "dask.distributed is not installed" in message
    assert "python3-distributed" in message
    assert _scheduler_pids(cluster) == []
