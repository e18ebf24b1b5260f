"""Hub queries: queue_status, hub_history, db_query (incl. $in/$gt/$lt), result_status,
get_result from another client, resubmit, purge_results."""

import datetime

import ipyparallel as ipp
import pytest
from ipyparallel.client.asyncresult import AsyncHubResult

from compat_util import KIND, Gate, msg_ids_of, wait_for_gate, wait_for_hub_records, wait_until


@ipp.interactive
def _getpid():
    import os

    return os.getpid()


@ipp.interactive
def _triple(x):
    return 3 * x


@pytest.fixture
def lview(client):
    return client.load_balanced_view()


@pytest.fixture(scope="module")
def other_client(cluster, client):
    """A second Client: it has no local cache, so its queries really go to the Hub."""
    return cluster.connect()


def _counts_ok(entry):
    return set(entry) == {"queue", "completed", "tasks"} and all(isinstance(v, int) for v in entry.values())


def test_queue_status_shape(client):
    qs = client.queue_status()
    assert set(qs) == {0, 1, "unassigned"}
    assert isinstance(qs["unassigned"], int)
    assert _counts_ok(qs[0]) and _counts_ok(qs[1])
    assert client.queue_status(targets=1) == client.queue_status()[1]


def test_queue_status_counts_completed(client):
    before = client.queue_status()
    ars = [client[0].apply_async(_triple, i) for i in range(3)] + [client[1].apply_async(_triple, 7)]
    assert client.wait(ars, timeout=30)
    wait_for_hub_records(client, msg_ids_of(ars))
    after = client.queue_status()
    assert after[0]["completed"] == before[0]["completed"] + 3
    assert after[1]["completed"] == before[1]["completed"] + 1
    assert after[0]["queue"] == after[1]["queue"] == 0
    assert after[0]["tasks"] == after[1]["tasks"] == 0
    verbose = client.queue_status(verbose=True)
    for ar in ars[:3]:
        assert ar.msg_ids[0] in verbose[0]["completed"]
    assert ars[3].msg_ids[0] in verbose[1]["completed"]
    assert ars[3].msg_ids[0] not in verbose[0]["completed"]


def test_queue_status_while_busy(cluster, client, lview):
    with Gate(cluster) as gate:
        # a direct task keeps engine 0 busy: it is in engine 0's MUX queue
        direct = client[0].apply_async(wait_for_gate, gate.path)
        # two load-balanced tasks for engine 1: one runs there, the other cannot be placed (hwm=1)
        with lview.temp_flags(targets=[1]):
            lb = [lview.apply_async(wait_for_gate, gate.path) for _ in range(2)]
        direct_id, lb_ids = direct.msg_ids[0], [ar.msg_ids[0] for ar in lb]

        def busy_state():
            qs = client.queue_status(verbose=True)
            return qs if (direct_id in qs[0]["queue"] and qs["unassigned"] and qs[1]["tasks"]) else None

        qs = wait_until(busy_state, 10, "engine 0 busy with the direct task and a task unassigned")
        assert qs[0]["queue"] == [direct_id]
        assert qs[0]["tasks"] == []
        placed, unassigned = qs[1]["tasks"], qs["unassigned"]
        assert len(placed) == 1 and len(unassigned) == 1
        assert sorted(placed + unassigned) == sorted(lb_ids)
        assert qs[1]["queue"] == []
        assert direct_id not in qs[0]["completed"]
        counts = client.queue_status()
        assert counts[0]["queue"] == 1 and counts["unassigned"] == 1 and counts[1]["tasks"] == 1
    assert client.wait([direct] + lb, timeout=30)
    wait_until(lambda: (lambda q: q[0]["queue"] == 0 and q[0]["tasks"] == 0 and q[1]["tasks"] == 0
                        and q["unassigned"] == 0)(client.queue_status()),
               10, "queues to drain")
    done = client.queue_status(verbose=True)
    assert direct_id in done[0]["completed"]
    assert all(i in done[1]["completed"] for i in lb_ids)


def test_hub_history_in_submission_order(client, lview):
    ars = []
    for i in range(6):
        view = lview if i % 2 else client[i % 4 // 2]
        ars.append(view.apply_async(_triple, i))
    assert client.wait(ars, timeout=30)
    ids = [ar.msg_ids[0] for ar in ars]
    wait_for_hub_records(client, ids)
    history = client.hub_history()
    assert all(i in history for i in ids)
    positions = [history.index(i) for i in ids]
    assert positions == sorted(positions)


def test_db_query_in_and_keys(client, lview):
    ars = [lview.apply_async(_triple, i) for i in range(5)]
    assert client.wait(ars, timeout=30)
    ids = [ar.msg_ids[0] for ar in ars]
    wait_for_hub_records(client, ids)
    records = client.db_query({"msg_id": {"$in": ids}}, keys=["msg_id", "completed"])
    assert sorted(r["msg_id"] for r in records) == sorted(ids)
    for r in records:
        assert set(r) == {"msg_id", "completed"}
        assert isinstance(r["completed"], datetime.datetime)
    # full records carry the bookkeeping fields
    full = client.db_query({"msg_id": ids[0]})
    assert len(full) == 1
    rec = full[0]
    assert rec["msg_id"] == ids[0]
    assert rec["header"]["msg_id"] == ids[0]
    assert rec["client_uuid"] == client.session.session
    assert rec["engine_uuid"] in client._engines.values()
    assert rec["queue"] == "task"
    assert rec["result_content"]["status"] == "ok"
    assert rec["submitted"] <= rec["started"] <= rec["completed"]
    assert "buffers" not in rec and "result_buffers" not in rec
    # a direct task is recorded under the mux queue
    direct = client[1].apply_async(_triple, 1)
    direct.get(timeout=30)
    wait_for_hub_records(client, direct.msg_ids)
    (drec,) = client.db_query({"msg_id": direct.msg_ids[0]}, keys=["queue", "engine_uuid"])
    assert drec["queue"] == "mux"
    assert drec["engine_uuid"] == client._engines[1]


def test_db_query_time_comparisons(client, lview):
    ars = []
    for i in range(3):
        ar = lview.apply_async(_triple, i)
        ar.get(timeout=30)  # sequential, so the submitted stamps are strictly increasing
        ars.append(ar)
    a, b, c = [ar.msg_ids[0] for ar in ars]
    wait_for_hub_records(client, [a, b, c])
    stamps = {r["msg_id"]: r["submitted"] for r in client.db_query({"msg_id": {"$in": [a, b, c]}},
                                                                    keys=["submitted"])}
    assert stamps[a] < stamps[b] < stamps[c]
    lt = client.db_query({"msg_id": {"$in": [a, b, c]}, "submitted": {"$lt": stamps[c]}}, keys=["submitted"])
    assert sorted(r["msg_id"] for r in lt) == sorted([a, b])
    lte = client.db_query({"msg_id": {"$in": [a, b, c]}, "submitted": {"$lte": stamps[b]}}, keys=[])
    assert sorted(r["msg_id"] for r in lte) == sorted([a, b])
    gte = client.db_query({"msg_id": {"$in": [a, b, c]}, "submitted": {"$gte": stamps[b]}}, keys=[])
    assert sorted(r["msg_id"] for r in gte) == sorted([b, c])
    gt = client.db_query({"msg_id": {"$in": [a, b, c]}, "submitted": {"$gt": stamps[a]}}, keys=[])
    if KIND == "python":
        # ipyparallel's DictDB implements $gt as "less than" (controller/dictdb.py:54); ours is correct.
        assert [r["msg_id"] for r in gt] == []
    else:
        assert sorted(r["msg_id"] for r in gt) == sorted([b, c])
    ne = client.db_query({"msg_id": {"$in": [a, b, c], "$ne": b}}, keys=[])
    assert sorted(r["msg_id"] for r in ne) == sorted([a, c])


def test_result_status_from_other_client(cluster, client, other_client, lview):
    ars = [lview.apply_async(_triple, i) for i in (1, 2)]
    assert client.wait(ars, timeout=30)
    ids = [ar.msg_ids[0] for ar in ars]
    wait_for_hub_records(client, ids)
    with Gate(cluster) as gate:
        running = client[0].apply_async(wait_for_gate, gate.path, "gated")
        running_id = running.msg_ids[0]
        wait_until(lambda: running_id in client.queue_status(verbose=True)[0]["queue"], 10,
                   "the gated task to reach the Hub")

        status = other_client.result_status(ids + [running_id], status_only=True)
        assert sorted(status["completed"]) == sorted(ids)
        assert status["pending"] == [running_id]

        full = other_client.result_status(ids, status_only=False)
        assert sorted(full["completed"]) == sorted(ids)
        assert full["pending"] == []
        assert [full[i] for i in ids] == [3, 6]

    assert running.get(timeout=30) == "gated"
    wait_until(lambda: other_client.result_status([running_id])["completed"] == [running_id], 10,
               "the gated task to be reported completed")
    assert other_client.get_result(running_id, block=True).get(timeout=30) == "gated"


def test_result_status_error_record(client, other_client, lview):
    ar = lview.apply_async(ipp.interactive(lambda: 1 / 0))
    with pytest.raises(ipp.RemoteError):
        ar.get(timeout=30)
    wait_for_hub_records(client, ar.msg_ids)
    with pytest.raises(ipp.RemoteError) as excinfo:
        other_client.result_status([ar.msg_ids[0]], status_only=False)
    assert excinfo.value.ename == "ZeroDivisionError"


def test_resubmit(client, lview):
    original = lview.apply_async(_triple, 14)
    assert original.get(timeout=30) == 42
    old_id = original.msg_ids[0]
    wait_for_hub_records(client, [old_id])
    resubmitted = client.resubmit(original.msg_ids)
    assert isinstance(resubmitted, AsyncHubResult)
    assert resubmitted.get(timeout=30) == [42]
    (new_id,) = resubmitted.msg_ids
    assert new_id != old_id

    def recorded():
        recs = client.db_query({"msg_id": old_id}, keys=["resubmitted"])
        return recs and recs[0]["resubmitted"] == new_id

    wait_until(recorded, 10, "the original record to point at the resubmitted task")
    assert new_id in client.hub_history()
    # a single msg_id works too
    again = client.resubmit(old_id)
    assert again.get(timeout=30) == [42]


def test_resubmit_unknown_id_fails(client):
    with pytest.raises(ipp.RemoteError) as excinfo:
        client.resubmit(["no-such-msg-id"])
    assert excinfo.value.ename == "KeyError"


def test_purge_results_all(client, other_client, lview):
    ars = [lview.apply_async(_triple, i) for i in range(4)] + [client[0].apply_async(_triple, 9)]
    assert client.wait(ars, timeout=30)
    ids = [ar.msg_ids[0] for ar in ars]
    wait_for_hub_records(client, ids)
    assert len(client.db_query({"msg_id": {"$in": ids}}, keys=["msg_id"])) == 5
    assert set(ids) <= set(client.hub_history())
    client.purge_results("all")
    assert client.db_query({"msg_id": {"$in": ids}}, keys=["msg_id"]) == []
    assert not set(ids) & set(client.hub_history())
    assert client.results == {}
    # the cluster keeps working and records new work
    ar = lview.apply_async(_triple, 5)
    assert ar.get(timeout=30) == 15
    wait_for_hub_records(client, ar.msg_ids)
    assert ar.msg_ids[0] in client.hub_history()


def test_purge_specific_results(client, lview):
    keep = lview.apply_async(_triple, 1)
    drop = lview.apply_async(_triple, 2)
    assert client.wait([keep, drop], timeout=30)
    wait_for_hub_records(client, msg_ids_of([keep, drop]))
    client.purge_results(jobs=[drop])
    history = client.hub_history()
    assert drop.msg_ids[0] not in history
    assert keep.msg_ids[0] in history
