"""Config files written as ipyparallel's manual writes them (docs/source/tutorial/process.md of
ipyparallel 7.1, and the 6.x manual's names it says "will still work"), used by our binaries.

The config files are Python: our ipcluster and ipcontroller have python3 with traitlets run
them with traitlets' own loader, so `import socket` and `os.environ.get('USER')` work.
"""

import json
import os
import socket
import subprocess

import ipyparallel as ipp
import pytest

import ippbench
from compat_util import skip_if_python, wait_until

BIN = ippbench.ipcluster_bin()


def _bin(name):
    path = os.path.join(BIN, name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} does not exist (run `make build`, or set IPCLUSTER_BIN)")
    return path


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class IPCluster:
    """Runs our bin/ipcluster against a private IPYTHONDIR; stops what it started."""

    def __init__(self, tmp_path, profile="default", env=None):
        self.ipython_dir = str(tmp_path / "ipython")
        self.profile = profile
        self.profile_dir = os.path.join(self.ipython_dir, f"profile_{profile}")
        scrub = ("IPP_PROFILE_DIR", "IPP_CLUSTER_ID", "IPYTHONDIR")
        self.env = {k: v for k, v in os.environ.items() if k not in scrub}
        self.env.update({"IPYTHONDIR": self.ipython_dir}, **(env or {}))
        self.started = False

    def config(self, name, text):
        _write(os.path.join(self.profile_dir, name), text)

    def run(self, command, *args, check=True, timeout=120):
        args = (command, f"--profile={self.profile}") + args
        p = subprocess.run([_bin("ipcluster"), *args], env=self.env,
                           capture_output=True, text=True, timeout=timeout, cwd=self.ipython_dir)
        if check and p.returncode != 0:
            raise AssertionError(f"ipcluster {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
        if args and args[0] == "start" and "--dry-run" not in args and p.returncode == 0:
            self.started = True
        return p

    def status(self):
        out = self.run("list", "-o", "json").stdout
        return [s for s in json.loads(out) if s["profile_dir"] == self.profile_dir]

    def stop(self):
        if self.started:
            self.started = False
            self.run("stop")


@pytest.fixture
def ipcluster(tmp_path):
    made = []

    def factory(**kwargs):
        made.append(IPCluster(tmp_path, **kwargs))
        return made[-1]

    yield factory
    for cl in made:
        cl.stop()


def test_controller_config_with_import_socket(make_cluster):
    """The manual's ipcontroller_config.py ("Ports and addresses"), verbatim: a location
    computed with the socket module, and an SSH server for clients' tunnels."""
    cl = make_cluster(n=0, start=False, name="manualsocket")
    _write(os.path.join(cl.profile_dir, "ipcontroller_config.py"), """\
c = get_config()
# allow connections on all interfaces from engines
# engines on the same node will use loopback, while engines
# from other nodes will use an external IP
c.IPController.ip = '*'

# you typically only need to specify the location when there are extra
# interfaces that may not be visible to peer nodes (e.g. VM interfaces)
c.IPController.location = '10.0.1.5'
# or to get an automatic value, try this:
import socket
hostname = socket.gethostname()
# alternate choices for hostname include `socket.getfqdn()`
# or `socket.gethostname() + '.local'`

ex_ip = socket.gethostbyname_ex(hostname)[-1][-1]
c.IPController.location = ex_ip

# now instruct clients to use the login node for SSH tunnels:
c.IPController.ssh_server = 'login.mycluster.net'
""")
    expected_ip = socket.gethostbyname_ex(socket.gethostname())[-1][-1]
    cl.t_controller_start = None
    cl.controller = cl.spawn("controller", ippbench.controller_argv(cl.kind) + cl.cluster_args())
    cl.wait_for_connection_files()
    client_info, engine_info = cl.connection_info("client"), cl.connection_info("engine")
    assert client_info["location"] == expected_ip
    assert engine_info["location"] == expected_ip
    assert client_info["ssh"] == "login.mycluster.net"


def test_controller_config_python_error_names_file_and_line(make_cluster):
    skip_if_python("the wording of our error")
    cl = make_cluster(n=0, start=False, name="manualerror")
    _write(os.path.join(cl.profile_dir, "ipcontroller_config.py"),
           "c = get_config()\nimport socket\nc.IPController.location = socket.gethostbyname(login_node)\n")
    p = subprocess.run([_bin("ipcontroller")] + cl.cluster_args(), env=cl.env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode != 0
    assert "ipcontroller_config.py:3: NameError: name 'login_node' is not defined" in p.stdout + p.stderr
    assert not os.path.exists(cl.client_file)


def test_ssh_block_takes_the_user_from_the_environment(ipcluster):
    """The manual's SSH section, with its commented user line switched on: the user comes from
    os.environ, evaluated by Python, and reaches the SSH launcher (shown by --dry-run)."""
    skip_if_python("ipcluster is ours")
    cl = ipcluster(profile="ssh", env={"USER": "manualuser"})
    cl.config("ipcluster_config.py", """\
c = get_config()
import os
c.IPClusterEngines.engine_launcher_class = 'ssh' # or 'sshproxy'
# and if the Controller is also to be remote:
c.IPClusterStart.controller_launcher_class = 'ssh'

# Set the user and hostname for the controller
c.SSHControllerLauncher.hostname = 'controller.example.com'
c.SSHControllerLauncher.user = os.environ.get('USER','username')

c.SSHEngineSetLauncher.engines = { 'host1.example.com' : 2,
            'host2.example.com' : 5,
            'host3.example.com' : (1, ['--profile-dir=/home/different/location']),
            'host4.example.com' : {'n': 3, 'engine_args': ['--profile-dir=/away/location'], 'engine_cmd': ['/home/venv/bin/python', '-m', 'ipyparallel.engine']},
            'host5.example.com' : 8 }
""")
    p = cl.run("start", "--dry-run")
    assert "manualuser@controller.example.com" in p.stdout, p.stdout + p.stderr
    for host in ("host1", "host2", "host3", "host4", "host5"):
        assert f"{host}.example.com" in p.stdout, p.stdout
    # the manual's old names work, and say today's
    assert "c.IPClusterEngines.engine_launcher_class is an old name; today it is c.Cluster.engine_launcher_class" in p.stderr


def test_ipclusterstart_n_wins_over_ipclusterengines_n(ipcluster):
    """IPClusterStart subclasses IPClusterEngines: for `ipcluster start` its n wins, whatever
    the order of the lines."""
    skip_if_python("ipcluster is ours")
    cl = ipcluster()
    cl.config("ipcluster_config.py", f"""\
c = get_config()
c.IPClusterStart.n = 3
c.IPClusterEngines.n = 2
c.EngineLauncher.engine_cmd = [{_bin("ipengine")!r}]
""")
    p = cl.run("start", "--daemonize")
    assert "engines: 3/3 registered" in p.stderr, p.stderr
    [status] = cl.status()
    assert status["engines_requested"] == 3 and status["engines_registered"] == 3, status
    assert "c.IPClusterEngines.n = 2 is ignored: c.IPClusterStart.n = 3" in p.stderr
    client = ipp.Client(profile="default", ipython_dir=cl.ipython_dir, timeout=10)
    try:
        assert len(client.ids) == 3
    finally:
        client.close()
    cl.stop()


def test_engine_set_launcher_class_mpi_starts_mpi_engines(ipcluster):
    """The manual's `engine_set_launcher_class` with the short form 'MPI' gives MPI engines."""
    skip_if_python("ipcluster is ours")
    cl = ipcluster(profile="mpi", env={"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"})
    cl.config("ipcluster_config.py", f"""\
c = get_config()
c.IPClusterEngines.engine_set_launcher_class = 'MPI'
c.MPILauncher.mpi_args = ['--oversubscribe']
c.EngineLauncher.engine_cmd = [{_bin("ipengine")!r}]
""")
    p = cl.run("start", "-n", "2", "--daemonize")
    assert "c.IPClusterEngines.engine_set_launcher_class is an old name; today it is c.Cluster.engine_launcher_class" in p.stderr
    [status] = cl.status()
    assert status["launcher"] == "mpi" and status["engines_registered"] == 2, status
    # each engine runs in the MPI world mpiexec made: its rank is in the environment
    px = cl.run("px", "--", "echo rank=$OMPI_COMM_WORLD_RANK size=$OMPI_COMM_WORLD_SIZE")
    assert sorted(line.split()[-2:] == ["rank=0", "size=2"] or line.split()[-2:] == ["rank=1", "size=2"]
                  for line in px.stdout.splitlines() if "rank=" in line) == [True, True], px.stdout
    cl.stop()
    wait_until(lambda: not cl.status() or cl.status()[0]["controller"] != "running", 30, "the cluster to stop")
