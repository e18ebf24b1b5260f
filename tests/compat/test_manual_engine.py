"""ipyparallel's manual, followed word for word, with the Go engine ($IPCLUSTER_BIN/ipengine).

The manual ("Using MPI with IPython", "Manual starting using mpiexec"):

    If you want to start the IPython engines using the mpiexec, just do::

        $ mpiexec -n 4 ipengine --mpi=mpi4py

    This requires that you already have a controller running and that the FURL files for the
    engines are in place.

and ("Configuring ipengine"): the engine takes its configuration from ipengine_config.py;
``c.IPEngine.startup_command`` is run at startup of the engine, and
``c.IPEngine.work_dir = u'/path/to/scratch/'`` runs the engines in a scratch directory.

The Go engine runs shell commands, so its startup_command is a shell command. The controller
is the one under test (ours, or Python's with IPP_TEST_CONTROLLER=python); the client is
ipyparallel 7.1's.
"""

import os
import shutil

import pytest

import ippbench
from compat_util import wait_until

GO_ENGINE = os.path.join(ippbench.ipcluster_bin(), "ipengine")
TIMEOUT = 60  # seconds for anything the client waits on: generous, the machine is shared


@pytest.fixture
def default_profile_cluster(make_cluster):
    """A running controller in $IPYTHONDIR/profile_default with no cluster id, as a user who
    typed `ipcontroller` has: engines started with no arguments find its files."""
    if not os.access(GO_ENGINE, os.X_OK):
        raise ippbench.ClusterError(f"{GO_ENGINE} does not exist (run `make build`, or set IPCLUSTER_BIN)")
    cl = make_cluster(n=0, start=False, cluster_id="")
    cl.profile_dir = os.path.join(cl.ipython_dir, "profile_default")
    cl.start_controller()
    cl.wait_for_connection_files()
    return cl


def write_engine_config(cl, text):
    os.makedirs(cl.profile_dir, exist_ok=True)
    with open(os.path.join(cl.profile_dir, "ipengine_config.py"), "w") as f:
        f.write(text)


def test_mpiexec_ipengine_mpi_mpi4py(default_profile_cluster):
    cl = default_profile_cluster
    mpiexec = shutil.which("mpiexec")
    assert mpiexec, "mpiexec missing: run `make deps` (openmpi-bin)"
    env = dict(cl.env, OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl_tcp_if_include="lo",
               OMPI_MCA_oob_tcp_if_include="lo")
    if os.geteuid() == 0:  # Open MPI refuses root without these
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    # the manual's line, with 2 processes and our ipengine
    mpi = cl.spawn("mpiexec", [mpiexec, "-n", "2", GO_ENGINE, "--mpi=mpi4py"], env=env)
    c = cl.connect()
    fut = c.wait_for_engines(2, timeout=TIMEOUT, block=False)
    wait_until(lambda: fut.done() or not mpi.alive(), TIMEOUT + 5, "2 MPI engines", diagnostics=cl.diagnostics)
    assert fut.done(), cl.diagnostics()
    assert sorted(c.ids) == [0, 1]
    ar = c[:].execute('echo "$OMPI_COMM_WORLD_RANK $IPP_ENGINE_ID"', block=True)
    assert ar.stdout == ["0 0\n", "1 1\n"], "engine ids are the MPI ranks"
    c.shutdown(targets="all", block=True)
    wait_until(lambda: not mpi.alive(), TIMEOUT, "mpiexec to exit after the engines shut down",
               diagnostics=cl.diagnostics)
    assert mpi.popen.returncode == 0, cl.diagnostics()


def test_work_dir_and_startup_command_from_ipengine_config(default_profile_cluster):
    cl = default_profile_cluster
    scratch = os.path.join(cl.workdir, "scratch")
    os.makedirs(scratch)
    write_engine_config(cl, f"""c = get_config()

c.IPEngine.startup_command = 'echo "started in $(pwd)" > startup-ran'

c.IPEngine.work_dir = u'{scratch}/'
""")
    cl.engines.append(cl.spawn("goengine", [GO_ENGINE]))
    c = cl.connect()
    cl.wait_for_engines(c, 1, timeout=TIMEOUT)
    assert c[:].execute("pwd", block=True).stdout == [scratch + "\n"]
    # the startup command ran once, in the work dir, before the engine registered
    assert c[:].execute("cat startup-ran", block=True).stdout == [f"started in {scratch}\n"]
    with open(os.path.join(scratch, "startup-ran")) as f:
        assert f.read() == f"started in {scratch}\n"


def test_failing_startup_command_stops_the_engine_with_its_output(default_profile_cluster):
    cl = default_profile_cluster
    write_engine_config(cl, "c = get_config()\n"
                            "c.IPEngine.startup_command = 'echo cannot load the modules >&2; exit 4'\n")
    engine = cl.spawn("goengine", [GO_ENGINE])
    wait_until(lambda: not engine.alive(), TIMEOUT, "the engine to exit after its startup command failed",
               diagnostics=cl.diagnostics)
    assert engine.popen.returncode != 0
    with open(engine.log_path) as f:
        log = f.read()
    assert "startup_command" in log and "exit status 4" in log and "cannot load the modules" in log, log
    c = cl.connect()
    assert c.ids == [], "an engine whose startup failed must not register"
