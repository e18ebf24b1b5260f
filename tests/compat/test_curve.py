"""CurveZMQ (c.IPController.enable_curve) with the real Python Client and engines.

The libzmq build of our controller encrypts like ipyparallel's; the pure-Go build cannot, and
must refuse instead of running in plaintext.  Each test runs against the build it is about.
"""

import os
import subprocess

import pytest

import ippbench
from compat_util import KIND


def _our_transport():
    out = subprocess.run([ippbench.our_controller_path(), "--version"], capture_output=True, text=True)
    return out.stdout


def _encrypting_controller():
    return KIND == "python" or "libzmq" in _our_transport()


def test_python_engines_and_client_over_curve(make_cluster):
    if not _encrypting_controller():
        pytest.skip("pure-Go build: test_pure_go_build_refuses_curve covers it")
    cl = make_cluster(n=2, controller_args=["--IPController.enable_curve=True"])
    for which in ("client", "engine"):
        key = cl.connection_info(which).get("curve_serverkey")
        assert isinstance(key, str) and len(key) == 40, f"{which} file curve_serverkey = {key!r}"
        assert cl.connection_info(which)["key"] == "", "no HMAC key with CURVE unless one is set"
    client = cl.clients[0]
    # builtins, since the engines cannot import this module
    assert client[:].apply_sync(pow, 2, 5) == [32, 32]
    assert client.load_balanced_view().apply_sync(str.upper, "balanced") == "BALANCED"
    client[:].execute("answer = 6 * 7", block=True)
    assert client[:].pull("answer", block=True) == [42, 42]


def test_pure_go_build_refuses_curve(tmp_path):
    if KIND == "python" or "libzmq" in _our_transport():
        pytest.skip("this controller encrypts: test_python_engines_and_client_over_curve covers it")
    env = dict(os.environ, IPYTHONDIR=str(tmp_path), IPP_ENABLE_CURVE="1")
    for k in ("IPP_PROFILE_DIR", "IPP_CLUSTER_ID", "IPP_SESSION_KEY"):
        env.pop(k, None)
    proc = subprocess.run([ippbench.our_controller_path()], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "make build-libzmq" in lines[0], proc.stderr
