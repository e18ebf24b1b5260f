"""Everyday Client use against the controller: direct (MUX) and load-balanced views,
push/pull/scatter/gather/execute, remote errors, iopub output, broadcast views."""

import os

import ipyparallel as ipp
import pytest



@ipp.interactive
def _getpid():
    import os

    return os.getpid()


@ipp.interactive
def _double(x):
    return 2 * x


@ipp.interactive
def _divide_by_zero():
    return 1 / 0


@ipp.interactive
def _say(text):
    print(text)
    return len(text)


def test_ids(client):
    assert client.ids == [0, 1]
    assert len(client) == 2


def test_apply_getpid_on_all_engines(cluster, client):
    pids = client[:].apply_sync(os.getpid)
    assert len(pids) == 2
    assert len(set(pids)) == 2, f"engines report the same pid: {pids}"
    assert sorted(pids) == sorted(cluster.engine_pids())
    # and each target really is the engine it names
    assert client[0].apply_sync(_getpid) == pids[0]
    assert client[1].apply_sync(_getpid) == pids[1]


def test_engines_have_nannies(cluster, client):
    # the real ipengine runs a nanny child per engine; it must not be confused with engines
    nannies = cluster.nanny_pids()
    assert len(nannies) == 2
    assert not set(nannies) & set(client[:].apply_sync(os.getpid))


def test_push_pull(client):
    dview = client[:]
    dview.push({"a": 1, "b": [1, 2, 3]}, block=True)
    assert dview.pull("a", block=True) == [1, 1]
    assert dview.pull(("a", "b"), block=True) == [[1, [1, 2, 3]], [1, [1, 2, 3]]]
    client[0].push({"x": 10}, block=True)
    client[1].push({"x": 20}, block=True)
    assert dview.pull("x", block=True) == [10, 20]
    assert client[1].pull("x", block=True) == 20
    # dict-style access
    dview["y"] = "why"
    assert dview["y"] == ["why", "why"]


def test_scatter_gather(client):
    dview = client[:]
    dview.scatter("part", range(100), block=True)
    parts = dview.pull("part", block=True)
    assert [len(p) for p in parts] == [50, 50]
    assert list(parts[0]) + list(parts[1]) == list(range(100))
    # gather of scattered ranges gives the partitions back
    assert [list(p) for p in dview.gather("part", block=True)] == [list(range(50)), list(range(50, 100))]
    dview.scatter("lpart", list(range(100)), block=True)
    assert client[0].pull("lpart", block=True) == list(range(50))
    assert dview.gather("lpart", block=True) == list(range(100))


def test_execute_then_pull(client):
    dview = client[:]
    ar = dview.execute("a = 5", block=True)
    assert ar.successful()
    assert dview.pull("a", block=True) == [5, 5]
    client[1].execute("a = a * 7", block=True)
    assert dview.pull("a", block=True) == [5, 35]


def test_execute_error(client):
    with pytest.raises(ipp.CompositeError) as excinfo:
        client[:].execute("1/0", block=True)
    names = [e[0] for e in excinfo.value.elist]  # (ename, evalue, traceback, engine_info)
    assert sorted(e[3]["engine_id"] for e in excinfo.value.elist) == [0, 1]
    assert names == ["ZeroDivisionError", "ZeroDivisionError"]


def test_load_balanced_map(client):
    lview = client.load_balanced_view()
    assert lview.map_sync(_double, range(1000)) == [2 * x for x in range(1000)]
    ar = lview.map_async(_double, range(200))
    assert ar.get(timeout=60) == [2 * x for x in range(200)]
    # both engines took part in the load balancing
    assert {md["engine_id"] for md in ar.metadata} == {0, 1}


def test_load_balanced_lambda(client):
    lview = client.load_balanced_view()
    assert lview.map_sync(ipp.interactive(lambda x: 2 * x), range(1000)) == [2 * x for x in range(1000)]
    assert lview.apply_sync(_double, 21) == 42


def test_remote_error_direct(client):
    with pytest.raises(ipp.RemoteError) as excinfo:
        client[0].apply_sync(_divide_by_zero)
    assert excinfo.value.ename == "ZeroDivisionError"
    assert excinfo.value.engine_info["engine_id"] == 0


def test_remote_error_load_balanced(client):
    lview = client.load_balanced_view()
    with pytest.raises(ipp.RemoteError) as excinfo:
        lview.apply_sync(_divide_by_zero)
    assert excinfo.value.ename == "ZeroDivisionError"
    assert excinfo.value.engine_info["engine_id"] in (0, 1)
    # and the cluster keeps working afterwards
    assert lview.apply_sync(_double, 4) == 8


def test_stdout_relayed_over_iopub(client):
    ar = client[1].apply_async(_say, "hello from engine 1")
    assert ar.get(timeout=30) == len("hello from engine 1")
    ar.wait_for_output(timeout=30)
    assert ar.stdout == "hello from engine 1\n"
    assert ar.engine_id == 1


def test_metadata_timestamps(client):
    ar = client.load_balanced_view().apply_async(_double, 1)
    ar.get(timeout=30)
    md = ar.metadata
    assert md["status"] == "ok"
    assert md["engine_id"] in (0, 1)
    assert md["submitted"] <= md["started"] <= md["completed"] <= md["received"]


@pytest.mark.parametrize("coalescing", [False, True], ids=["plain", "coalescing"])
def test_broadcast_apply(cluster, client, coalescing):
    bview = client.broadcast_view(is_coalescing=coalescing)
    pids = bview.apply_sync(os.getpid)
    assert len(pids) == 2
    assert sorted(pids) == sorted(cluster.engine_pids())
    # the same again, to make sure the broadcast path handles repeated requests
    assert sorted(bview.apply_sync(_getpid)) == sorted(pids)


@pytest.mark.parametrize("coalescing", [False, True], ids=["plain", "coalescing"])
def test_broadcast_execute(client, coalescing):
    bview = client.broadcast_view(is_coalescing=coalescing)
    value = 11 if coalescing else 1
    ar = bview.execute(f"b = {value}", block=True)
    assert ar.successful()
    assert client[:].pull("b", block=True) == [value, value]
