"""Fixtures for the ipyparallel 7.1 compatibility suite.

The controller under test is ours (``$IPCLUSTER_BIN/ipcontroller``, default
/work/main/bin/ipcontroller) unless ``IPP_TEST_CONTROLLER=python``, which runs ipyparallel's
own ``/usr/bin/python3 -m ipyparallel.controller`` with the same arguments (used to validate
the suite itself).  Engines and clients are always the real Python ones.

Cluster plumbing lives in bench/ippbench.py (shared with the benchmark).
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.normpath(os.path.join(HERE, os.pardir, os.pardir, "bench")))
sys.path.insert(0, HERE)

import ippbench  # noqa: E402
from compat_util import KIND  # noqa: E402


def pytest_report_header(config):
    if KIND == "ours":
        where = ippbench.our_controller_path()
    else:
        where = " ".join(ippbench.controller_argv("python"))
    return f"ipyparallel compat: controller under test = {KIND} ({where})"


def _finish(cluster):
    problems = cluster.stop()
    assert not problems, "cluster teardown problems:\n" + "\n".join(problems)


def _start(cluster):
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="module")
def cluster(request):
    """One controller + 2 Python engines + a connected Client, shared by a test module."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    cl = _start(ippbench.Cluster(kind=KIND, n=2, name=name))
    yield cl
    _finish(cl)


@pytest.fixture(scope="module")
def client(cluster):
    """The module cluster's first Client (already sees both engines)."""
    return cluster.clients[0]


@pytest.fixture
def make_cluster(request):
    """Factory for private (destructible) clusters; all are stopped and checked at teardown.

    make_cluster(n=2, kind=KIND, start=True, **Cluster kwargs) -> Cluster
    """
    made = []

    def factory(n=2, kind=None, start=True, **kwargs):
        kwargs.setdefault("name", request.node.name[:40].replace("[", "-").replace("]", ""))
        cl = ippbench.Cluster(kind=kind or KIND, n=n, **kwargs)
        made.append(cl)
        if start:
            _start(cl)
        return cl

    yield factory
    problems = []
    for cl in made:
        problems += cl.stop()
    assert not problems, "cluster teardown problems:\n" + "\n".join(problems)
