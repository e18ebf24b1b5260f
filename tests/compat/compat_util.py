"""Helpers shared by the compat test modules (imported after conftest put bench/ on sys.path)."""

import os

import ipyparallel as ipp
import pytest

import ippbench

KIND = ippbench.controller_kind()
wait_until = ippbench.wait_until


def skip_if_python(what):
    """Skip the caller when validating against the Python controller (ours-only checks)."""
    if KIND == "python":
        pytest.skip(f"ours-only check ({what}); IPP_TEST_CONTROLLER=python")


def remote_error_name(exc):
    """ename of a RemoteError (or the class name of a local ipyparallel error)."""
    return getattr(exc, "ename", None) or type(exc).__name__


@ipp.interactive
def wait_for_gate(path, result=None, timeout=60):
    """Remote function: block the engine until `path` exists (a Gate is opened), then return
    `result`.  Keeps an engine busy for exactly as long as a test needs, without sleeps."""
    import os
    import time

    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise TimeoutError("gate %s was never opened" % path)
        time.sleep(0.005)
    return result


class Gate:
    """A file the test creates to release tasks running `wait_for_gate`."""

    _count = 0

    def __init__(self, cluster):
        Gate._count += 1
        self.path = os.path.join(cluster.workdir, f"gate-{os.getpid()}-{Gate._count}")

    def open(self):
        with open(self.path, "w"):
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.open()  # never leave engines blocked, even when the test fails


def wait_for_hub_records(client, msg_ids, timeout=15):
    """Wait until the Hub's task DB holds completed records for all `msg_ids`.

    The Client receives results straight from the relays; the Hub records them from its own
    copies, so right after ar.get() the Hub may still be catching up (observed with
    ipyparallel's multi-process controller under load)."""
    msg_ids = list(msg_ids)

    def caught_up():
        recs = client.db_query({"msg_id": {"$in": msg_ids}}, keys=["completed"])
        return len(recs) == len(msg_ids) and all(r["completed"] for r in recs)

    wait_until(caught_up, timeout, f"the Hub to record {len(msg_ids)} completed tasks", interval=0.05)


def msg_ids_of(ars):
    return [mid for ar in ars for mid in ar.msg_ids]
