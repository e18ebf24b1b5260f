"""The Go shell engine ($IPCLUSTER_BIN/ipengine) driven by the real ipyparallel 7.1 Client.

Each test runs the controller under test (ours, or Python's with IPP_TEST_CONTROLLER=python)
and Go engines on a private cluster; teardown checks that no process of the cluster, including
the commands the engines ran, survives.
"""

import os
import shutil
import socket
import time

import ipyparallel as ipp
import pytest

import ippbench
from compat_util import remote_error_name, wait_until

GO_ENGINE = os.path.join(ippbench.ipcluster_bin(), "ipengine")
TIMEOUT = 60  # seconds for anything the client waits on: generous, the machine is shared


def start_go_cluster(make_cluster, n=2, engine_args=(), name=None):
    """A controller plus n Go engines; returns (cluster, client) once all n are registered."""
    if not os.access(GO_ENGINE, os.X_OK):
        raise ippbench.ClusterError(f"{GO_ENGINE} does not exist (run `make build`, or set IPCLUSTER_BIN)")
    cl = make_cluster(n=0, start=False, **({"name": name} if name else {}))
    cl.start_controller()
    cl.wait_for_connection_files()
    for i in range(n):
        cl.engines.append(cl.spawn(f"goengine{i}", [GO_ENGINE] + cl.cluster_args() + list(engine_args)))
    client = cl.connect()
    cl.wait_for_engines(client, n, timeout=TIMEOUT)
    return cl, client


@pytest.fixture
def go_cluster(make_cluster):
    return start_go_cluster(make_cluster)


def test_execute_gives_each_engines_output(go_cluster):
    cl, c = go_cluster
    ar = c[:].execute("hostname", block=True)
    assert ar.stdout == [socket.gethostname() + "\n"] * 2
    ar = c[:].execute('echo "$IPP_ENGINE_ID $IPP_CLUSTER_ID"; echo to-stderr >&2', block=True)
    assert ar.stdout == [f"{eid} {cl.cluster_id}\n" for eid in c.ids]
    assert ar.stderr == ["to-stderr\n"] * 2


def test_failing_command_raises_remote_error_with_exit_code(go_cluster):
    _, c = go_cluster
    with pytest.raises(ipp.RemoteError) as info:
        c[c.ids[0]].execute("echo 'no such file' >&2; exit 3", block=True)
    err = info.value
    assert remote_error_name(err) == "CommandError"
    assert "exited with status 3" in err.evalue and "exit 3" in err.evalue
    assert "no such file" in err.traceback  # the end of stderr is the traceback
    assert err.engine_info["engine_id"] == c.ids[0]
    # on several engines, the client collects one error per engine
    with pytest.raises(ipp.CompositeError) as info:
        c[:].execute("false", block=True)
    assert [e[1] for e in info.value.elist] == ["command 'false' exited with status 1"] * 2


def test_apply_on_go_engine_is_a_clear_error(go_cluster):
    _, c = go_cluster
    t0 = time.monotonic()
    ar = c.load_balanced_view().apply(lambda: 42)
    with pytest.raises(ipp.RemoteError) as info:
        ar.get(timeout=TIMEOUT)
    assert time.monotonic() - t0 < 10, "the error should come at once"
    err = info.value
    assert remote_error_name(err) == "NotImplementedError"
    assert "shell commands" in err.evalue and "ipyparallel.engine" in err.evalue
    ar.wait_for_output(timeout=TIMEOUT)  # idle was published: output waits end
    with pytest.raises(ipp.RemoteError):
        c[c.ids[1]].apply_sync(lambda: 1)


def test_px_style_outputs_do_not_hang(go_cluster, capsys):
    _, c = go_cluster
    ar = c[:].execute("echo hello; echo warn >&2", silent=False, block=True)
    ar.wait_for_output(timeout=TIMEOUT)
    ar.display_outputs()
    out = capsys.readouterr().out
    assert out.count("hello") == 2 and "[stdout:" in out
    assert [md["execute_input"] for md in ar.metadata] == ["echo hello; echo warn >&2"] * 2
    # BroadcastView.execute(block=True) waits for every engine's idle status
    bar = c.broadcast_view().execute("echo bcast", block=True)
    assert bar.stdout == ["bcast\n"] * 2


def test_output_streams_while_command_runs(go_cluster):
    cl, c = go_cluster
    gate = os.path.join(cl.workdir, "gate")
    code = f"echo first; for i in $(seq 1200); do [ -e {gate} ] && break; sleep 0.05; done; echo second"
    ar = c[c.ids[0]].execute(code, block=False)
    wait_until(lambda: "first" in (ar.stdout or ""), TIMEOUT, "the first line before the command ends")
    assert not ar.ready()
    open(gate, "w").close()
    ar.get(timeout=TIMEOUT)
    ar.wait_for_output(timeout=TIMEOUT)
    assert ar.stdout == "first\nsecond\n"


def test_signal_and_abort(go_cluster):
    cl, c = go_cluster
    eid = c.ids[0]
    pidfile = os.path.join(cl.workdir, "pid")
    running = c[eid].execute(f"sleep 300 & echo $! > {pidfile}; wait", block=False)
    queued = c[eid].execute("echo never", block=False)
    pid = wait_until(lambda: _read_int(pidfile), TIMEOUT, "the command to start")
    c.abort(queued, targets=eid, block=True)
    c.send_signal("SIGINT", targets=eid, block=True)
    with pytest.raises(ipp.RemoteError) as info:
        running.get(timeout=TIMEOUT)
    assert "SIGINT" in info.value.evalue
    with pytest.raises(ipp.error.TaskAborted):
        queued.get(timeout=TIMEOUT)
    wait_until(lambda: not ippbench.pid_alive(pid), TIMEOUT, "the interrupted command's child to exit")
    assert c[eid].execute("echo still-here", block=True).stdout == "still-here\n"


def test_shutdown_stops_everything(make_cluster):
    cl, c = start_go_cluster(make_cluster, name="go-shutdown")
    pidfile = os.path.join(cl.workdir, "bg")
    c[c.ids[0]].execute(f"sleep 300 & echo $! > {pidfile}; wait", block=False)
    bg = wait_until(lambda: _read_int(pidfile), TIMEOUT, "a long command with a background child")
    c.shutdown(hub=True, block=True)
    procs = [cl.controller] + cl.engines
    wait_until(lambda: not any(p.alive() for p in procs), TIMEOUT, "controller and engines to exit",
               diagnostics=cl.diagnostics)
    assert [p.popen.returncode for p in cl.engines] == [0, 0], cl.diagnostics()
    assert not ippbench.pid_alive(bg), "the running command's child survived the shutdown"
    assert not os.path.exists(cl.client_file) and not os.path.exists(cl.engine_file)
    assert not cl.leftovers()


def test_mpiexec_ranks_become_engine_ids(make_cluster):
    mpiexec = shutil.which("mpiexec")
    assert mpiexec, "mpiexec missing: run `make deps` (openmpi-bin)"
    cl = make_cluster(n=0, start=False, name="go-mpi")
    cl.start_controller()
    cl.wait_for_connection_files()
    env = dict(cl.env, OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl_tcp_if_include="lo",
               OMPI_MCA_oob_tcp_if_include="lo")
    if os.geteuid() == 0:  # Open MPI refuses root without these
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    mpi = cl.spawn("mpiexec", [mpiexec, "-n", "2", GO_ENGINE, "--mpi"] + cl.cluster_args(), env=env)
    c = cl.connect()
    fut = c.wait_for_engines(2, timeout=TIMEOUT, block=False)
    wait_until(lambda: fut.done() or not mpi.alive(), TIMEOUT + 5, "2 MPI engines", diagnostics=cl.diagnostics)
    assert fut.done(), cl.diagnostics()
    assert sorted(c.ids) == [0, 1]
    ar = c[:].execute('echo "$OMPI_COMM_WORLD_RANK $IPP_ENGINE_ID"', block=True)
    assert ar.stdout == ["0 0\n", "1 1\n"]
    c.shutdown(hub=True, block=True)
    wait_until(lambda: not mpi.alive(), TIMEOUT, "mpiexec to exit after the engines shut down",
               diagnostics=cl.diagnostics)
    assert mpi.popen.returncode == 0, cl.diagnostics()


def _read_int(path):
    try:
        with open(path) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None
