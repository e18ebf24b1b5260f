"""--sqlitedb: task records in an SQLite file with ipyparallel's SQLiteDB layout.

- A file written by our controller is served by ipyparallel 7.1's controller (db_query,
  get_result, hub_history), and the reverse.
- Task labels (ipyparallel 9.1's view.set_flags(label=...), sent here as the request
  metadata's "label" through 7.1's Client, whose views have no such flag): ours finds them
  with db_query, keeps them in a table 7.1 still reads (in the request metadata, which is
  where 9.1's Hub takes them from), and finds them again in a file 7.1 wrote.
- ``--reuse`` restart: the results and history of 1000 tasks survive; a SIGKILL of the
  controller while tasks run leaves a file that SQLite checks as intact and that the next
  controller serves.

ipyparallel 7.1 compares the column types SQLite reports against its own in exact case;
SQLite 3.37 and later report standard type names in capitals ("TEXT"), so 7.1 on Debian's
SQLite sets every existing table aside (its own earlier one too) and starts a new one. To
let it read a file at all, its controller runs here with that one comparison made
case-insensitive (PY_CONTROLLER); everything else is the real 7.1 code.
"""

import os
import signal
import sqlite3
import time

import ipyparallel as ipp

import ippbench
from compat_util import skip_if_python, wait_for_hub_records, wait_until

TIMEOUT = 60

PY_CONTROLLER = """
import ipyparallel.controller.sqlitedb as sqlitedb

class _CaseInsensitive(str):
    def __eq__(self, other):
        return isinstance(other, str) and self.lower() == other.lower()
    def __ne__(self, other):
        return not self.__eq__(other)
    __hash__ = str.__hash__

_init_db = sqlitedb.SQLiteDB._init_db
def _patched_init_db(self):
    self._types = {k: _CaseInsensitive(v) for k, v in self._types.items()}
    _init_db(self)
sqlitedb.SQLiteDB._init_db = _patched_init_db

from ipyparallel.controller.app import main
main()
"""


class PythonControllerCluster(ippbench.Cluster):
    """A cluster around ipyparallel 7.1's controller, with the table check patched (above)."""

    def start_controller(self, extra_args=()):
        argv = ([ippbench.PY, "-c", PY_CONTROLLER] + self.cluster_args() + ["--ip=127.0.0.1"]
                + self.controller_args + list(extra_args))
        self.t_controller_start = time.monotonic()
        self.controller = self.spawn("controller", argv)
        return self.controller


@ipp.interactive
def triple(x):
    print("tripling", x)
    return 3 * x


def _finish(cluster):
    problems = cluster.stop()
    assert not problems, "cluster teardown problems:\n" + "\n".join(problems)


def _run(client, values):
    """Run triple(v) for each value as a load-balanced task; return {msg_id: v}."""
    view = client.load_balanced_view()
    ars = [view.apply_async(triple, v) for v in values]
    assert [ar.get(TIMEOUT) for ar in ars] == [3 * v for v in values]
    ids = {ar.msg_ids[0]: v for ar, v in zip(ars, values)}
    wait_for_hub_records(client, ids)
    return ids


def _run_labeled(client, values, label):
    """Run triple(v) as load-balanced tasks with a task label; return {msg_id: v}."""
    view = client.load_balanced_view()
    md = {"after": [], "follow": [], "timeout": None, "targets": [], "retries": 0, "label": label}
    ars = [ipp.AsyncResult(client, client.send_apply_request(view._socket, triple, (v,), {}, metadata=md),
                           fname="triple", owner=True) for v in values]
    assert [ar.get(TIMEOUT) for ar in ars] == [3 * v for v in values]
    ids = {ar.msg_ids[0]: v for ar, v in zip(ars, values)}
    wait_for_hub_records(client, ids)
    return ids


def _labels(client, query):
    """{msg_id: label} of the records db_query finds for a query on labels."""
    return {r["msg_id"]: r["label"] for r in client.db_query({"label": query}, keys=["label"])}


def _rows_in_file(path, ids):
    """msg_ids of `ids` whose completed records are committed in the file (read by Python's sqlite3)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found = set()
        for t in tables:
            for (mid,) in db.execute(f'SELECT msg_id FROM "{t}" WHERE completed IS NOT NULL'):
                found.add(mid)
        return found & set(ids)
    finally:
        db.close()


def _check_served(cluster, ids, n_engines=0):
    """A fresh client of `cluster` gets every record of ids: results, output, history."""
    client = cluster.connect()
    history = client.hub_history()
    assert set(ids) <= set(history)
    recs = client.db_query({"msg_id": {"$in": list(ids)}}, keys=["stdout", "completed", "engine_uuid"])
    assert {r["msg_id"] for r in recs} == set(ids)
    for r in recs:
        assert r["stdout"] == f"tripling {ids[r['msg_id']]}\n"
        assert r["completed"] and r["engine_uuid"]
    for mid, v in ids.items():  # one at a time: 7.1's get_results mixes up records in a batch
        assert client.get_result(mid).get(TIMEOUT) == 3 * v


def test_ours_and_pythons_controllers_read_each_others_files(tmp_path):
    skip_if_python("runs both controllers itself")
    location = str(tmp_path)
    args = ["--sqlitedb", f"--SQLiteDB.location={location}"]
    dbfile = os.path.join(location, "tasks.db")

    ours = ippbench.Cluster(kind="ours", n=1, controller_args=args, name="sqlite-ours")
    try:
        client = ours.start()
        ours_ids = _run(client, [1, 2, 3])
        labeled = _run_labeled(client, [4, 5], "ours-label")
        assert _labels(client, {"$in": ["ours-label"]}) == dict.fromkeys(labeled, "ours-label")
        assert _labels(client, {"$exists": False}).keys() >= set(ours_ids)
        ours_ids.update(labeled)
    finally:
        _finish(ours)  # SIGTERM: ours commits what is pending before it exits
    assert _rows_in_file(dbfile, ours_ids) == set(ours_ids)

    py = PythonControllerCluster(kind="python", n=1, controller_args=args, name="sqlite-py")
    try:
        client = py.start()
        _check_served(py, ours_ids)
        py_ids = _run(client, [10, 20])
        py_labeled = _run_labeled(client, [30], "py-label")
        py_ids.update(py_labeled)
        # 7.1 commits every 2 s and not on SIGTERM: wait until its records are in the file
        wait_until(lambda: _rows_in_file(dbfile, py_ids) == set(py_ids), 15, "Python's commit")
    finally:
        _finish(py)

    ours2 = ippbench.Cluster(kind="ours", n=0, controller_args=args, name="sqlite-ours2")
    try:
        client = ours2.start()
        _check_served(ours2, {**ours_ids, **py_ids})
        want = {**dict.fromkeys(labeled, "ours-label"), **dict.fromkeys(py_labeled, "py-label")}
        assert _labels(client, {"$nin": [""], "$ne": None}) == want
        assert _labels(client, {"$glob": "py-*"}) == dict.fromkeys(py_labeled, "py-label")
    finally:
        _finish(ours2)


def test_reuse_restart_serves_1000_tasks_and_survives_sigkill():
    skip_if_python("restarts our controller")
    cl = ippbench.Cluster(kind="ours", n=2, controller_args=["--sqlitedb", "--reuse"], name="sqlite-reuse")
    try:
        client = cl.start()
        view = client.load_balanced_view()
        ar = view.map_async(triple, range(1000), chunksize=1)
        assert ar.get(TIMEOUT) == [3 * v for v in range(1000)]
        ids = dict(zip(ar.msg_ids, range(1000)))
        wait_for_hub_records(client, ids, timeout=30)
        cl.close_clients()

        cl._terminate([cl.controller], 10)
        cl.start_controller()
        cl.wait_for_connection_files()
        client = cl.connect()
        assert set(ids) <= set(client.hub_history())
        recs = client.db_query({"msg_id": {"$in": list(ids)}}, keys=["stdout", "completed"])
        assert len(recs) == 1000 and all(r["completed"] for r in recs)
        assert all(r["stdout"] == f"tripling {ids[r['msg_id']]}\n" for r in recs)
        some = list(ids)[:50]
        res = client.get_result(some)
        assert res.get(TIMEOUT) == [[3 * ids[m]] for m in some]  # map tasks return their chunk
        client.purge_results(some[:10])
        assert client.db_query({"msg_id": {"$in": some}}, keys=["msg_id"]).__len__() == 40

        # SIGKILL while tasks are being recorded: the file stays intact and readable.
        cl.start_engines(1)  # the first engines are not taken back (that is --restore)
        cl.wait_for_engines(client, 1, timeout=TIMEOUT)
        busy = client.load_balanced_view().map_async(triple, range(300), chunksize=1)
        wait_until(lambda: sum(1 for a in busy._children if a.done()) >= 50, TIMEOUT, "tasks to run")
        cl.controller.popen.send_signal(signal.SIGKILL)
        cl.controller.popen.wait(TIMEOUT)
        cl.close_clients()
        dbfile = os.path.join(cl.profile_dir, "tasks.db")
        db = sqlite3.connect(dbfile)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            kept = {r[0] for r in db.execute('SELECT msg_id FROM "ipython-tasks" WHERE completed IS NOT NULL')}
        finally:
            db.close()
        assert len(set(ids) - set(some[:10]) - kept) == 0

        cl.start_controller()
        cl.wait_for_connection_files()
        client = cl.connect()
        mid = list(ids)[500]
        assert client.get_result(mid).get(TIMEOUT) == [3 * ids[mid]]
        assert len(client.db_query({"msg_id": {"$in": list(ids)}}, keys=["msg_id"])) == 990
    finally:
        _finish(cl)
