"""Load-balanced scheduling: after/follow dependencies (list and Dependency/dict forms),
impossible and invalid dependencies, retries on another engine, abort of queued tasks."""

import os

import ipyparallel as ipp
import pytest
from ipyparallel import Dependency
from ipyparallel.error import TaskAborted

from compat_util import Gate, wait_for_gate


@ipp.interactive
def _getpid():
    import os

    return os.getpid()


@ipp.interactive
def _stamp_after_sleep(seconds):
    """Sleep, then return the engine's wall-clock time at the end."""
    import time

    time.sleep(seconds)
    return time.time()


@ipp.interactive
def _now():
    import time

    return time.time()


@ipp.interactive
def _fail():
    raise ValueError("intentional failure")


@ipp.interactive
def _pid_after_sleep(seconds):
    import os
    import time

    time.sleep(seconds)
    return os.getpid()


@ipp.interactive
def _fail_first_attempt(marker):
    """Fail on the first attempt (recording this engine's pid in `marker`), succeed after."""
    import os

    if not os.path.exists(marker):
        with open(marker, "w") as f:
            f.write(str(os.getpid()))
        raise RuntimeError("first attempt fails on pid %d" % os.getpid())
    return os.getpid()


@pytest.fixture
def lview(client):
    return client.load_balanced_view()


def test_after_waits_for_dependency(client, lview):
    first = lview.apply_async(_stamp_after_sleep, 1.0)
    with lview.temp_flags(after=[first]):
        second = lview.apply_async(_now)
    finished_first = first.get(timeout=30)
    started_second = second.get(timeout=30)
    # without the dependency the second task would run at once on the idle engine
    assert started_second >= finished_first
    assert second.metadata["started"] >= first.metadata["completed"]


def test_after_accepts_async_result_and_msg_id(client, lview):
    first = lview.apply_async(_stamp_after_sleep, 0.5)
    with lview.temp_flags(after=first.msg_ids[0]):
        by_id = lview.apply_async(_now)
    with lview.temp_flags(after=first):
        by_ar = lview.apply_async(_now)
    done = first.get(timeout=30)
    assert by_id.get(timeout=30) >= done
    assert by_ar.get(timeout=30) >= done


def test_follow_runs_on_same_engine(client, lview):
    leader = lview.apply_async(_getpid)
    leader_pid = leader.get(timeout=30)
    with lview.temp_flags(follow=[leader]):
        followers = [lview.apply_async(_pid_after_sleep, 0.2) for _ in range(4)]
    # with two idle engines, leastload would spread these four tasks over both
    assert [f.get(timeout=60) for f in followers] == [leader_pid] * 4
    assert {f.metadata["engine_id"] for f in followers} == {leader.metadata["engine_id"]}


def test_follow_with_after(client, lview):
    leader = lview.apply_async(_stamp_after_sleep, 0.5)
    with lview.temp_flags(follow=leader, after=leader):
        ar = lview.apply_async(_now)
    assert ar.get(timeout=30) >= leader.get(timeout=30)
    assert ar.metadata["engine_id"] == leader.metadata["engine_id"]


def test_dependency_on_failure(client, lview):
    failed = lview.apply_async(_fail)
    dep = Dependency([failed], success=False, failure=True)
    with lview.temp_flags(after=dep):
        ar = lview.apply_async(_now)
    with pytest.raises(ipp.RemoteError):
        failed.get(timeout=30)
    # runs because (and after) the dependency failed
    assert ar.get(timeout=30) > 0
    assert ar.metadata["started"] >= failed.metadata["completed"]


def test_dependency_on_failure_is_impossible_after_success(client, lview):
    ok = lview.apply_async(_getpid)
    ok.get(timeout=30)
    with lview.temp_flags(after=Dependency([ok], success=False, failure=True)):
        ar = lview.apply_async(_now)
    with pytest.raises(ipp.RemoteError) as excinfo:
        ar.get(timeout=30)
    assert excinfo.value.ename == "ImpossibleDependency"


def test_dependency_any_of(client, lview):
    failed = lview.apply_async(_fail)
    ok = lview.apply_async(_stamp_after_sleep, 0.3)
    # all=False: one successful dependency is enough even though the other failed
    with lview.temp_flags(after=Dependency([failed, ok], all=False)):
        ar = lview.apply_async(_now)
    assert ar.get(timeout=30) >= ok.get(timeout=30)
    # all=True (default): impossible once one of them failed
    with lview.temp_flags(after=Dependency([failed, ok], all=True)):
        impossible = lview.apply_async(_now)
    with pytest.raises(ipp.RemoteError) as excinfo:
        impossible.get(timeout=30)
    assert excinfo.value.ename == "ImpossibleDependency"


def test_dependency_dict_form_on_the_wire(client):
    """The dict form {dependencies, all, success, failure} as sent in request metadata.

    (ipyparallel 7.1's view.set_flags rejects plain dicts, so send it at the Client level.)
    """
    lview = client.load_balanced_view()
    failed = lview.apply_async(_fail)
    with pytest.raises(ipp.RemoteError):
        failed.get(timeout=30)
    md = dict(after={"dependencies": failed.msg_ids, "all": True, "success": False, "failure": True},
              follow=[], timeout=None, targets=[], retries=0)
    fut = client.send_apply_request(client._task_socket, _getpid, metadata=md)
    ar = ipp.AsyncResult(client, fut, owner=True)
    assert ar.get(timeout=30) > 0


def test_impossible_dependency(client, lview):
    failed = lview.apply_async(_fail)
    with pytest.raises(ipp.RemoteError) as excinfo:
        failed.get(timeout=30)
    assert excinfo.value.ename == "ValueError"
    with lview.temp_flags(after=[failed]):
        ar = lview.apply_async(_now)
    with pytest.raises(ipp.RemoteError) as excinfo:
        ar.get(timeout=30)
    assert excinfo.value.ename == "ImpossibleDependency"


def test_impossible_dependency_while_pending(client, lview):
    # the dependency fails after the dependent task was queued
    slow_fail = lview.apply_async(
        ipp.interactive(lambda: (__import__("time").sleep(0.5), 1 / 0)))
    with lview.temp_flags(after=[slow_fail]):
        ar = lview.apply_async(_now)
    with pytest.raises(ipp.RemoteError) as excinfo:
        ar.get(timeout=30)
    assert excinfo.value.ename == "ImpossibleDependency"
    with pytest.raises(ipp.RemoteError) as excinfo:
        slow_fail.get(timeout=30)
    assert excinfo.value.ename == "ZeroDivisionError"


def test_invalid_dependency(client, lview):
    with lview.temp_flags(after=["no-such-msg-id"]):
        ar = lview.apply_async(_now)
    with pytest.raises(ipp.RemoteError) as excinfo:
        ar.get(timeout=30)
    assert excinfo.value.ename == "InvalidDependency"
    with lview.temp_flags(follow=["another-unknown-msg-id"]):
        ar = lview.apply_async(_now)
    with pytest.raises(ipp.RemoteError) as excinfo:
        ar.get(timeout=30)
    assert excinfo.value.ename == "InvalidDependency"


def test_targets_restrict_engine(client, lview):
    pid1 = client[1].apply_sync(_getpid)
    with lview.temp_flags(targets=[1]):
        ars = [lview.apply_async(_getpid) for _ in range(6)]
    assert [ar.get(timeout=30) for ar in ars] == [pid1] * 6


def test_retries_on_other_engine(cluster, client, lview):
    marker = os.path.join(cluster.workdir, "retry-marker")
    with lview.temp_flags(retries=1):
        ar = lview.apply_async(_fail_first_attempt, marker)
    pid = ar.get(timeout=30)
    with open(marker) as f:
        failed_pid = int(f.read())
    assert failed_pid in cluster.engine_pids()
    assert pid in cluster.engine_pids()
    assert pid != failed_pid, "the retry must go to an engine that has not failed the task"


def test_no_retries_means_failure(cluster, client, lview):
    marker = os.path.join(cluster.workdir, "no-retry-marker")
    ar = lview.apply_async(_fail_first_attempt, marker)
    with pytest.raises(ipp.RemoteError) as excinfo:
        ar.get(timeout=30)
    assert excinfo.value.ename == "RuntimeError"
    assert os.path.exists(marker)


def _control_barrier(client, targets):
    """Return once every control message sent so far to `targets` has passed the nanny.

    A Python engine busy with a shell request handles control requests (like abort) only when
    it is next idle, so abort(block=True) would wait for the busy task.  The nanny answers
    signal_request itself (SIGWINCH is ignored by the engine), after relaying all earlier
    control messages to its engine.  Its relay is an asynchronous ZMQStream send, so go round
    twice: the second reply comes from a later nanny loop iteration than the relay."""
    for _ in range(2):
        client.send_signal("SIGWINCH", targets=targets, block=True)


def test_abort_queued_direct_task(cluster, client):
    view = client[0]
    with Gate(cluster) as gate:
        busy = view.apply_async(wait_for_gate, gate.path, "busy")
        queued = view.apply_async(_getpid)
        aborted = client.abort(queued, targets=0, block=False)
        _control_barrier(client, 0)
    aborted.result(timeout=30)
    assert busy.get(timeout=30) == "busy"
    with pytest.raises(TaskAborted):
        queued.get(timeout=30)
    assert queued.metadata["engine_id"] == 0 and queued.metadata["status"] == "aborted"
    assert view.apply_sync(_getpid) in cluster.engine_pids()


def test_abort_queued_load_balanced_task(cluster, client, lview):
    with Gate(cluster) as gate:
        busy = [lview.apply_async(wait_for_gate, gate.path, i) for i in range(2)]
        queued = lview.apply_async(_getpid)  # hwm=1: waits in the scheduler
        aborted = client.abort(queued, block=False)
        _control_barrier(client, "all")
        status = client.queue_status(verbose=True)
    aborted.result(timeout=30)
    assert sorted(ar.get(timeout=30) for ar in busy) == [0, 1]
    assert {ar.metadata["engine_id"] for ar in busy} == {0, 1}, \
        f"both gated tasks went to one engine; queue_status while gated: {status}"
    with pytest.raises(TaskAborted):
        queued.get(timeout=30)
    # the cluster still schedules normally
    assert lview.apply_sync(_getpid) in cluster.engine_pids()
