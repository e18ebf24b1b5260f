"""Destructive lifecycle tests, each on a private cluster: an engine crash while it runs a
load-balanced task, Client.shutdown(hub=True), SIGTERM cleanup, and Python's own ipcluster
driving our controller."""

import json
import os
import signal
import subprocess
import time

import ipyparallel as ipp
import pytest

import ippbench
from compat_util import remote_error_name, wait_until


@ipp.interactive
def _getpid():
    import os

    return os.getpid()


@ipp.interactive
def _record_pid_and_sleep(path, seconds):
    import os
    import time

    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(path + ".tmp", path)
    time.sleep(seconds)
    return os.getpid()


def _read_pid(path):
    try:
        with open(path) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def test_engine_crash_during_task(make_cluster):
    cl = make_cluster(n=2, name="crash")
    client = cl.clients[0]
    lview = client.load_balanced_view()
    pids = dict(zip(client.ids, client[:].apply_sync(os.getpid)))
    assert sorted(pids.values()) == sorted(cl.engine_pids())

    marker = os.path.join(cl.workdir, "running-pid")
    ar = lview.apply_async(_record_pid_and_sleep, marker, 60)
    victim = wait_until(lambda: _read_pid(marker), 30, "the long task to start on an engine")
    victim_id = [eid for eid, pid in pids.items() if pid == victim][0]
    survivor_id = [eid for eid in pids if eid != victim_id][0]
    victim_nannies = ippbench.children_of(victim)
    assert len(victim_nannies) == 1, victim_nannies

    t_kill = time.monotonic()
    os.kill(victim, signal.SIGKILL)  # a crash: only the engine process, not its nanny
    wait_until(lambda: client.ids == [survivor_id], 30, f"engine {victim_id} to be unregistered",
               diagnostics=cl.diagnostics)
    with pytest.raises(Exception) as excinfo:
        ar.get(timeout=max(1.0, 30 - (time.monotonic() - t_kill)))
    assert remote_error_name(excinfo.value) == "EngineError", repr(excinfo.value)
    assert time.monotonic() - t_kill <= 30

    # the crashed engine's nanny noticed and went away; the survivor still works
    wait_until(lambda: not ippbench.pid_alive(victim_nannies[0]), 15, "the crashed engine's nanny to exit")
    assert lview.apply_sync(_getpid) == pids[survivor_id]
    assert client[:].apply_sync(_getpid) == [pids[survivor_id]]
    # (ipyparallel's Hub keeps listing dead engines here, hub.py:1036 never removes the id,
    # so only the survivor's presence is checked)
    wait_until(lambda: (lambda qs: survivor_id in qs and qs["unassigned"] == 0)(client.queue_status()),
               10, "queue_status to show the survivor and nothing unassigned")
    # and a new engine gets a fresh id (ids are never reused)
    cl.start_engines(1)
    wait_until(lambda: len(client.ids) == 2, 60, "a replacement engine", diagnostics=cl.diagnostics)
    assert client.ids == [survivor_id, 2]


def test_client_shutdown_hub(make_cluster):
    cl = make_cluster(n=2, name="shutdown")
    client = cl.clients[0]
    assert sorted(client[:].apply_sync(_getpid)) == sorted(cl.engine_pids())
    nannies = cl.nanny_pids()
    assert len(nannies) == 2
    client.shutdown(hub=True, block=True)

    procs = [cl.controller] + cl.engines
    wait_until(lambda: not any(p.alive() for p in procs), 20,
               "controller and engines to exit after shutdown(hub=True)", diagnostics=cl.diagnostics)
    wait_until(lambda: not any(ippbench.pid_alive(p) for p in nannies), 15, "nannies to exit")
    assert not os.path.exists(cl.client_file)
    assert not os.path.exists(cl.engine_file)
    assert cl.controller.popen.returncode == 0
    assert cl.leftovers() == []


def test_sigterm_removes_connection_files(make_cluster):
    cl = make_cluster(n=0, name="sigterm")
    client = cl.clients[0]
    assert client.ids == []
    info = cl.connection_info("client")
    assert info["interface"] == "tcp://127.0.0.1"
    for path in (cl.client_file, cl.engine_file):
        assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(cl.security_dir).st_mode & 0o777 == 0o700
    os.kill(cl.controller.pid, signal.SIGTERM)
    wait_until(lambda: not cl.controller.alive(), 10, "controller to exit on SIGTERM",
               diagnostics=cl.diagnostics)
    assert not os.path.exists(cl.client_file)
    assert not os.path.exists(cl.engine_file)
    assert cl.leftovers() == []


def _ipcluster(cl, *args, timeout=120):
    return subprocess.run(["/usr/bin/ipcluster", *args, f"--profile-dir={cl.profile_dir}"],
                          env=cl.env, cwd=cl.workdir, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)


def test_python_ipcluster_drives_controller(make_cluster):
    cl = make_cluster(n=2, start=False, cluster_id="", name="ipcluster")
    os.makedirs(cl.profile_dir)
    controller_cmd = ippbench.controller_argv(cl.kind)
    with open(os.path.join(cl.profile_dir, "ipcluster_config.py"), "w") as f:
        f.write("c = get_config()\n")
        f.write(f"c.LocalControllerLauncher.controller_cmd = {controller_cmd!r}\n")

    started = _ipcluster(cl, "start", "-n", "2", "--daemonize")
    out = started.stdout.decode("utf8", "replace")
    assert started.returncode == 0, out
    try:
        client = cl.connect(timeout=30)
        cl.wait_for_engines(client, 2, timeout=90)
        assert client.ids == [0, 1]
        assert client.load_balanced_view().map_sync(ipp.interactive(lambda x: x * x), range(10)) == \
            [x * x for x in range(10)]
        # the controller ipcluster started is the one we configured
        cluster_file = os.path.join(cl.security_dir, "cluster-.json")
        with open(cluster_file) as f:
            ctl_pid = json.load(f)["controller"]["state"]["pid"]
        ctl_cmd = ippbench.proc_cmdline(ctl_pid)
        assert ctl_cmd.startswith(" ".join(controller_cmd)), ctl_cmd
        assert f"--profile-dir {cl.profile_dir}" in ctl_cmd
        engine_pids = client[:].apply_sync(os.getpid)
        cl.close_clients()
    finally:
        stopped = _ipcluster(cl, "stop")
    assert stopped.returncode == 0, stopped.stdout.decode("utf8", "replace")
    wait_until(lambda: not cl.leftovers(), 20, "all ipcluster processes to exit",
               diagnostics=lambda: repr(cl.leftovers()))
    assert not ippbench.pid_alive(ctl_pid)
    assert not any(ippbench.pid_alive(p) for p in engine_pids)
    assert not os.path.exists(cl.client_file)
    assert not os.path.exists(cl.engine_file)
