"""Engine registration latency: ours completes registration on the first heartbeat echo,
ipyparallel's waits for heartbeat periods.  Both at their default heartbeat period."""

from compat_util import skip_if_python


def test_registration_faster_than_python(make_cluster, capsys):
    skip_if_python("compares our controller with the Python one")
    ours = make_cluster(n=2, kind="ours", name="regspeed")
    ours_s = ours.registration_seconds
    assert ours.clients[0].ids == [0, 1]
    assert ours.stop() == []

    python = make_cluster(n=2, kind="python", name="regspeed")
    python_s = python.registration_seconds
    assert python.clients[0].ids == [0, 1]
    assert python.stop() == []

    with capsys.disabled():
        print(f"\n    controller start -> 2 engines registered: ours {ours_s:.2f}s, "
              f"python {python_s:.2f}s (ratio {python_s / ours_s:.1f}x)")
    assert ours_s < python_s / 2, f"ours {ours_s:.2f}s is not under half of Python's {python_s:.2f}s"
