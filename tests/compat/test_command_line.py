"""ipcontroller command-line and environment forms that ipyparallel's tools and users pass."""

import json
import os
import signal

import ipyparallel as ipp

import ippbench
from compat_util import skip_if_python, wait_until


@ipp.interactive
def _getpid():
    import os

    return os.getpid()


def _spawn_controller(cl, args, env=None):
    argv = ippbench.controller_argv(cl.kind) + list(args)
    cl.t_controller_start = None
    cl.controller = cl.spawn("controller", argv, env=env)
    return cl.controller


def _sigterm_and_wait(cl):
    # the whole process group: ipyparallel's controller, SIGTERMed right after start-up, can
    # leave some of its scheduler child processes running
    os.killpg(cl.controller.pgid, signal.SIGTERM)
    wait_until(lambda: not cl.controller.alive(), 10, "controller to exit on SIGTERM",
               diagnostics=cl.diagnostics)
    # (ipyparallel's controller children hold ports too; let them go before the restart)
    wait_until(lambda: not cl.leftovers(), 10, "all controller processes to exit",
               diagnostics=lambda: repr(cl.leftovers()))


def test_profile_name_and_ipython_dir(make_cluster):
    cl = make_cluster(n=0, start=False, cluster_id="", name="profname")
    cl.profile_dir = os.path.join(cl.ipython_dir, "profile_compat2")
    _spawn_controller(cl, ["--profile=compat2", f"--ipython-dir={cl.ipython_dir}", "--ip=127.0.0.1",
                           "--log-level=DEBUG"])
    cl.wait_for_connection_files()
    assert os.path.basename(cl.client_file) == "ipcontroller-client.json"
    client = ipp.Client(profile="compat2", ipython_dir=cl.ipython_dir, timeout=10)
    cl.clients.append(client)
    assert client.ids == []


def test_space_separated_arguments(make_cluster):
    cl = make_cluster(n=1, start=False, cluster_id="spaced", name="spaced")
    _spawn_controller(cl, ["--profile-dir", cl.profile_dir, "--cluster-id", "spaced", "--ip=127.0.0.1",
                           "--log-level=20", "--ping=1000"])
    cl.wait_for_connection_files()
    assert os.path.basename(cl.engine_file) == "ipcontroller-spaced-engine.json"
    cl.start_engines()
    client = cl.connect()
    cl.wait_for_engines(client, 1, timeout=60)
    assert client[0].apply_sync(_getpid) == cl.engine_pids()[0]


def test_environment_profile_dir_and_cluster_id(make_cluster):
    skip_if_python("IPP_PROFILE_DIR/IPP_CLUSTER_ID are ipyparallel 8.x launch variables; 7.1 ignores them")
    cl = make_cluster(n=1, start=False, cluster_id="fromenv", name="envvars")
    env = dict(cl.env, IPP_PROFILE_DIR=cl.profile_dir, IPP_CLUSTER_ID="fromenv")
    _spawn_controller(cl, ["--ip=127.0.0.1"], env=env)
    cl.wait_for_connection_files()
    cl.start_engines()
    client = cl.connect()
    cl.wait_for_engines(client, 1, timeout=60)
    assert client.load_balanced_view().apply_sync(_getpid) == cl.engine_pids()[0]


def test_reuse_keeps_connection_files(make_cluster):
    cl = make_cluster(n=0, start=False, name="reuse")
    args = cl.cluster_args() + ["--ip=127.0.0.1", "--reuse"]
    _spawn_controller(cl, args)
    cl.wait_for_connection_files()
    with open(cl.client_file, "rb") as f:
        first_client = f.read()
    with open(cl.engine_file, "rb") as f:
        first_engine = f.read()
    _sigterm_and_wait(cl)
    # --reuse: the files survive a clean exit ...
    assert os.path.exists(cl.client_file) and os.path.exists(cl.engine_file)
    # ... and a restart binds the same ports with the same key, without rewriting them
    _spawn_controller(cl, args)
    info = json.loads(first_client)

    def serving():
        cl.check_alive(engines=False)
        try:
            client = ipp.Client(profile_dir=cl.profile_dir, cluster_id=cl.cluster_id, timeout=1)
        except (OSError, TimeoutError):
            return None
        cl.clients.append(client)
        return [client]  # (a Client with no engines is falsy: len(client) == 0)

    (client,) = wait_until(serving, 20, "the restarted controller to answer on the reused ports",
                        interval=0.1, diagnostics=cl.diagnostics)
    assert client.ids == []
    with open(cl.client_file, "rb") as f:
        assert f.read() == first_client
    with open(cl.engine_file, "rb") as f:
        assert f.read() == first_engine
    assert cl.connection_info("client")["registration"] == info["registration"]
