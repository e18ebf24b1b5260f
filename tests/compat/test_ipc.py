"""ipc:// transport: the real ipyparallel 7.1 Client and Python engines, and a Go engine,
reach the controller under test over unix-domain socket files.

The connection files say ``"interface": "ipc://<prefix>"`` and the peers connect to
``ipc://<prefix>:<port>``, as ipyparallel's Client and engines build their URLs; our
controller keeps the socket files in a 0700 directory that it removes when it stops.
"""

import os
import stat
import subprocess

import pytest

import ippbench
from compat_util import KIND, wait_until

GO_ENGINE = os.path.join(ippbench.ipcluster_bin(), "ipengine")
GO_IPCLUSTER = os.path.join(ippbench.ipcluster_bin(), "ipcluster")
TIMEOUT = 60

# ipyparallel's own controller binds "<ip>-<port>" while its Client and engines connect to
# "<ip>:<port>", so it cannot serve them over ipc; the socket directory is ours too.
pytestmark = pytest.mark.skipif(KIND != "ours", reason="ipyparallel 7.1's controller binds ipc files its own peers cannot reach")


def socket_prefix(cl):
    interface = cl.connection_info("client")["interface"]
    assert interface.startswith("ipc://"), interface
    assert cl.connection_info("engine")["interface"] == interface
    return interface[len("ipc://"):]


@pytest.mark.parametrize("trait", ["transport", "engine_transport"])
def test_python_client_and_engines_over_ipc(make_cluster, trait):
    cl = make_cluster(n=2, controller_args=[f"--IPController.{trait}=ipc"], name=f"ipc-{trait}")
    client = cl.clients[0]
    prefix = socket_prefix(cl)
    info = cl.connection_info("client")
    registration = f"{prefix}:{info['registration']}"
    assert stat.S_ISSOCK(os.stat(registration).st_mode), f"{registration} is not a socket file"
    sock_dir = os.path.dirname(prefix)
    assert stat.S_IMODE(os.stat(sock_dir).st_mode) == 0o700

    # work and output travel over ipc: mux, task, iopub
    assert client[:].apply_sync(pow, 2, 10) == [1024, 1024]
    lview = client.load_balanced_view()
    assert lview.map_sync(abs, range(-5, 5)) == [abs(x) for x in range(-5, 5)]
    ar = client[0].execute("print('over ipc')", block=True)
    assert "over ipc" in ar.stdout

    # a Go engine registers over the same file and runs a command for the Python client
    if not os.access(GO_ENGINE, os.X_OK):
        raise ippbench.ClusterError(f"{GO_ENGINE} does not exist (run `make build`, or set IPCLUSTER_BIN)")
    cl.engines.append(cl.spawn("goengine", [GO_ENGINE] + cl.cluster_args()))
    cl.wait_for_engines(client, 3, timeout=TIMEOUT)
    go_id = max(client.ids)
    ar = client[go_id].execute("echo hello from go", block=True)
    assert "hello from go" in ar.stdout

    # the Go client (ipcluster px) reaches all three engines over ipc too
    px = subprocess.run([GO_IPCLUSTER, "px", "--timeout=60s"] + cl.cluster_args() + ["--", "echo px-over-ipc"],
                        capture_output=True, text=True, timeout=90, env=cl.env)
    assert px.returncode == 0, px.stderr
    assert px.stdout.count("px-over-ipc") == 3, px.stdout

    assert not cl.stop(), "cluster did not stop cleanly"
    assert not os.path.exists(sock_dir), f"socket directory {sock_dir} left after the controller stopped"
