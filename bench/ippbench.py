"""Local ipyparallel clusters for compatibility tests and benchmarks.

A `Cluster` runs one controller (ours, ``$IPCLUSTER_BIN/ipcontroller``, or ipyparallel's
``python -m ipyparallel.controller``) and N real Python engines in a fresh temporary
IPYTHONDIR/profile, each process in its own process group with its output in a log file,
and connects the real ``ipyparallel.Client`` to it.  It waits on conditions with deadlines
(never on fixed sleeps), fails fast with the log tail when a process dies, and on `stop()`
terminates everything it started (including the engines' nanny processes, which run in
their own sessions) and reports anything left behind.

Every process started here carries the environment variable ``IPCLUSTER_TEST_TAG=<tag>``
(inherited by all descendants), which is how leftovers are found in /proc.

This module is imported by ``bench/controller_bench.py`` and ``tests/compat/conftest.py``;
it must not depend on pytest.
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

PY = "/usr/bin/python3"
DEFAULT_BIN = "/work/main/bin"
TAG_VAR = "IPCLUSTER_TEST_TAG"
KINDS = ("ours", "python")

# environment variables that would change where our processes look for things
_SCRUB_ENV = ("IPP_PROFILE_DIR", "IPP_CLUSTER_ID", "IPP_SESSION_KEY", "IPP_CONNECTION_INFO",
              "IPYTHONDIR", "IPP_CURVE_SERVERKEY", "IPP_ENABLE_CURVE")


class ClusterError(AssertionError):
    """A cluster process misbehaved (died, timed out, did not clean up)."""


def ipcluster_bin():
    return os.environ.get("IPCLUSTER_BIN") or DEFAULT_BIN


def our_controller_path():
    return os.path.join(ipcluster_bin(), "ipcontroller")


def controller_kind():
    """The controller under test: env IPP_TEST_CONTROLLER = 'ours' (default) or 'python'."""
    kind = (os.environ.get("IPP_TEST_CONTROLLER") or "ours").strip().lower()
    if kind not in KINDS:
        raise ValueError(f"IPP_TEST_CONTROLLER must be one of {KINDS}, not {kind!r}")
    return kind


def controller_argv(kind):
    """The command (without arguments) that starts a controller of this kind."""
    if kind == "python":
        return [PY, "-m", "ipyparallel.controller"]
    if kind == "ours":
        return [our_controller_path()]
    raise ValueError(f"unknown controller kind {kind!r}")


def wait_until(predicate, timeout, what, interval=0.02, diagnostics=None):
    """Poll `predicate` until it returns a truthy value (which is returned).

    Raises ClusterError after `timeout` seconds, with `diagnostics()` appended when given.
    Exceptions from `predicate` propagate (so a predicate can fail fast).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout:g}s waiting for {what}"
            if diagnostics is not None:
                msg += "\n" + diagnostics()
            raise ClusterError(msg)
        time.sleep(interval)


def _read(path, limit=None):
    try:
        with open(path, "rb") as f:
            return f.read() if limit is None else f.read(limit)
    except OSError:
        return None


def proc_state(pid):
    """Single-letter state from /proc/<pid>/stat, or None if the process is gone."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    try:
        return stat[stat.rindex(b")") + 2:][:1].decode()
    except ValueError:
        return None


def pid_alive(pid):
    state = proc_state(pid)
    return state is not None and state not in ("Z", "X")


def proc_ppid(pid):
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    try:
        return int(stat[stat.rindex(b")") + 2:].split()[1])
    except (ValueError, IndexError):
        return None


def proc_cmdline(pid):
    raw = _read(f"/proc/{pid}/cmdline") or b""
    return raw.replace(b"\0", b" ").decode("utf8", "replace").strip()


def find_processes(tag=None, needle=None):
    """Live (non-zombie) processes whose environment has IPCLUSTER_TEST_TAG=<tag>
    or whose command line contains `needle`.  Returns [(pid, cmdline)]."""
    me = os.getpid()
    tag_entry = f"{TAG_VAR}={tag}".encode() if tag else None
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid == me:
            continue
        state = proc_state(pid)
        if state is None or state in ("Z", "X"):
            continue
        cmd = _read(f"/proc/{pid}/cmdline") or b""
        hit = needle is not None and needle.encode() in cmd
        if not hit and tag_entry is not None:
            env = _read(f"/proc/{pid}/environ") or b""
            hit = tag_entry in env.split(b"\0")
        if hit:
            found.append((pid, cmd.replace(b"\0", b" ").decode("utf8", "replace").strip()))
    return found


def children_of(pid):
    """Direct children of `pid` (live ones)."""
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and proc_ppid(int(entry)) == pid and pid_alive(int(entry)):
            kids.append(int(entry))
    return kids


def tail(path, lines=40):
    data = _read(path)
    if data is None:
        return f"(no log at {path})"
    text = data.decode("utf8", "replace").splitlines()
    return "\n".join(text[-lines:])


class Proc:
    """A process we started, in its own process group (and session)."""

    def __init__(self, label, argv, popen, log_path):
        self.label = label
        self.argv = argv
        self.popen = popen
        self.log_path = log_path
        self.pid = popen.pid
        self.pgid = popen.pid  # start_new_session => pgid == pid

    def alive(self):
        return self.popen.poll() is None

    def __repr__(self):
        return f"<Proc {self.label} pid={self.pid}>"


class Cluster:
    """One controller + N Python engines + clients, all local, in a fresh temp dir.

    Typical use::

        cl = Cluster(kind="ours", n=2)
        try:
            client = cl.start()          # controller, files, engines, Client, wait_for_engines
            ...
        finally:
            problems = cl.stop()         # [] when everything exited cleanly
    """

    def __init__(self, kind=None, n=2, cluster_id="compat", base_dir=None, controller_args=(),
                 engine_args=(), name="cluster"):
        self.kind = kind or controller_kind()
        self.n = n
        self.cluster_id = cluster_id
        self.controller_args = list(controller_args)
        self.engine_args = list(engine_args)
        self.workdir = tempfile.mkdtemp(prefix=f"ipp-{name}-{self.kind}-", dir=base_dir)
        self.tag = f"{os.path.basename(self.workdir)}-{uuid.uuid4().hex[:8]}"
        self.ipython_dir = os.path.join(self.workdir, "ipython")
        self.profile_dir = os.path.join(self.workdir, "profile_compat")
        self.log_dir = os.path.join(self.workdir, "logs")
        os.makedirs(self.ipython_dir)
        os.makedirs(self.log_dir)
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB_ENV}
        env.update({"IPYTHONDIR": self.ipython_dir, TAG_VAR: self.tag, "PYTHONUNBUFFERED": "1"})
        self.env = env
        self.controller = None
        self.engines = []
        self.procs = []
        self.clients = []
        self.t_controller_start = None
        self.t_files = None
        self.t_engines_ready = None
        self._stopped = False

    # ------------------------------------------------------------------ paths

    @property
    def security_dir(self):
        return os.path.join(self.profile_dir, "security")

    def connection_file(self, which):
        """Path of ipcontroller[-<cluster_id>]-<which>.json (which = client|engine)."""
        cid = f"-{self.cluster_id}" if self.cluster_id else ""
        return os.path.join(self.security_dir, f"ipcontroller{cid}-{which}.json")

    @property
    def client_file(self):
        return self.connection_file("client")

    @property
    def engine_file(self):
        return self.connection_file("engine")

    def connection_info(self, which="client"):
        with open(self.connection_file(which)) as f:
            return json.load(f)

    @property
    def registration_seconds(self):
        """Controller process start -> client saw all N engines registered."""
        if self.t_controller_start is None or self.t_engines_ready is None:
            return None
        return self.t_engines_ready - self.t_controller_start

    # -------------------------------------------------------------- processes

    def spawn(self, label, argv, env=None):
        log_path = os.path.join(self.log_dir, f"{label}.log")
        log = open(log_path, "ab")
        try:
            popen = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env or self.env, cwd=self.workdir, start_new_session=True,
            )
        finally:
            log.close()
        proc = Proc(label, argv, popen, log_path)
        self.procs.append(proc)
        return proc

    def cluster_args(self):
        return [f"--profile-dir={self.profile_dir}", f"--cluster-id={self.cluster_id}"]

    def start_controller(self, extra_args=()):
        if self.kind == "ours" and not os.access(our_controller_path(), os.X_OK):
            raise ClusterError(f"our controller binary {our_controller_path()} does not exist "
                               f"(run `make build`, or set IPCLUSTER_BIN)")
        argv = (controller_argv(self.kind) + self.cluster_args() + ["--ip=127.0.0.1"]
                + self.controller_args + list(extra_args))
        self.t_controller_start = time.monotonic()
        self.controller = self.spawn("controller", argv)
        return self.controller

    def check_alive(self, engines=True):
        """Raise ClusterError (with the log tail) if the controller or an engine has exited."""
        procs = [self.controller] if self.controller else []
        if engines:
            procs += self.engines
        for p in procs:
            if p is not None and not p.alive():
                raise ClusterError(f"{p.label} (pid {p.pid}) exited with status {p.popen.returncode}"
                                   f"; last lines of {p.log_path}:\n{tail(p.log_path)}")

    def _files_ready(self):
        self.check_alive(engines=False)
        for path in (self.client_file, self.engine_file):
            try:
                with open(path) as f:
                    info = json.load(f)
            except (OSError, ValueError):
                return False  # absent, or still being written
            if "registration" not in info:
                return False
        return True

    def wait_for_connection_files(self, timeout=30):
        wait_until(self._files_ready, timeout, f"connection files in {self.security_dir}",
                   diagnostics=self.diagnostics)
        self.t_files = time.monotonic()

    def start_engines(self, n=None):
        n = self.n if n is None else n
        started = []
        for _ in range(n):
            label = f"engine{len(self.engines)}"
            argv = [PY, "-m", "ipyparallel.engine"] + self.cluster_args() + self.engine_args
            p = self.spawn(label, argv)
            self.engines.append(p)
            started.append(p)
        return started

    def connect(self, timeout=10, **kwargs):
        """A new ipyparallel.Client for this cluster (closed by stop())."""
        import ipyparallel as ipp

        client = ipp.Client(profile_dir=self.profile_dir, cluster_id=self.cluster_id or None,
                            timeout=timeout, **kwargs)
        self.clients.append(client)
        return client

    def wait_for_engines(self, client, n=None, timeout=60):
        """client.wait_for_engines(n) with a deadline, failing fast if a process died."""
        n = self.n if n is None else n
        fut = client.wait_for_engines(n, timeout=timeout, block=False)

        def done():
            if fut.done():
                return True
            self.check_alive()
            return False

        wait_until(done, timeout + 5, f"{n} engines to register", interval=0.01,
                   diagnostics=self.diagnostics)
        fut.result()
        if len(client.ids) >= n and self.t_engines_ready is None:
            self.t_engines_ready = time.monotonic()

    def start(self, engines_timeout=60):
        """Start everything and return a connected Client that sees all N engines."""
        self.start_controller()
        self.wait_for_connection_files()
        self.start_engines()
        client = self.connect()
        if self.n:
            self.wait_for_engines(client, self.n, timeout=engines_timeout)
        else:
            self.t_engines_ready = time.monotonic()
        return client

    def engine_pids(self):
        return [p.pid for p in self.engines]

    def nanny_pids(self):
        """Children of our engine processes (the ipyparallel nanny) that are alive now."""
        kids = []
        for p in self.engines:
            if p.alive():
                kids.extend(children_of(p.pid))
        return kids

    def leftovers(self):
        return find_processes(tag=self.tag, needle=self.workdir)

    def diagnostics(self, lines=25):
        out = []
        for p in self.procs:
            state = "running" if p.alive() else f"exited {p.popen.returncode}"
            out.append(f"--- {p.label} pid {p.pid} ({state}) {p.log_path}\n{tail(p.log_path, lines)}")
        return "\n".join(out)

    # --------------------------------------------------------------- teardown

    def close_clients(self):
        for c in self.clients:
            try:
                c.close(linger=0)
            except Exception:
                pass
        self.clients = []

    def _terminate(self, procs, timeout):
        """SIGTERM the process groups of `procs`, wait up to `timeout`, then SIGKILL.
        Returns the procs that needed SIGKILL."""
        procs = [p for p in procs if p.alive()]
        for p in procs:
            _killpg(p.pgid, signal.SIGTERM)
        try:
            wait_until(lambda: not any(p.alive() for p in procs), timeout,
                       "processes to exit after SIGTERM", interval=0.02)
        except ClusterError:
            pass
        stubborn = [p for p in procs if p.alive()]
        for p in procs:
            # also sweeps any children left in the group of a process that did exit
            _killpg(p.pgid, signal.SIGKILL)
        for p in procs:
            try:
                p.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        return stubborn

    def stop(self, term_timeout=10, orphan_timeout=10, keep_workdir_on_error=True):
        """Terminate everything; return a list of problems (empty when all is well).

        Order: close clients; SIGTERM the engines (SIGKILL after `term_timeout`: a busy Python
        engine only acts on SIGTERM when idle); SIGTERM the controller.  Problems reported:
        the controller did not exit within `term_timeout` of SIGTERM, or some other process of
        this cluster (found by tag or cmdline: nannies, controller children, ipcluster-launched
        processes) is still alive `orphan_timeout` after that.  Leftovers are then SIGKILLed.
        """
        if self._stopped:
            return []
        self._stopped = True
        problems = []
        self.close_clients()
        t0 = time.monotonic()
        others = [p for p in self.procs if p is not self.controller]
        stubborn = self._terminate(others, term_timeout)
        t1 = time.monotonic()
        if self.controller is not None:
            if self._terminate([self.controller], term_timeout):
                problems.append(f"controller pid {self.controller.pid} still running {term_timeout}s "
                                f"after SIGTERM; log tail:\n{tail(self.controller.log_path)}")
        t2 = time.monotonic()
        # nannies exit by themselves when their engine is gone (and may linger up to 3 s
        # trying to deliver their unregistration_request); nothing else may survive.
        try:
            wait_until(lambda: not self.leftovers(), orphan_timeout, "cluster processes to exit",
                       interval=0.05)
        except ClusterError:
            left = self.leftovers()
            problems.append("processes left behind: "
                            + "; ".join(f"{pid}: {cmd}" for pid, cmd in left))
            for pid, _ in left:
                _kill(pid, signal.SIGKILL)
            try:
                wait_until(lambda: not self.leftovers(), 5, "leftovers to die after SIGKILL")
            except ClusterError as e:
                problems.append(str(e))
        if os.environ.get("IPPBENCH_DEBUG"):
            print(f"[ippbench] stop {self.workdir}: engines {t1 - t0:.2f}s (SIGKILLed: {stubborn}), "
                  f"controller {t2 - t1:.2f}s, orphans {time.monotonic() - t2:.2f}s", file=sys.stderr)
        if not problems or not keep_workdir_on_error:
            import shutil
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            problems.append(f"(logs kept in {self.workdir})")
        return problems


def _killpg(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _kill(pid, sig):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# ---------------------------------------------------------------- measurements
#
# Functions sent to engines must not refer to this module (engines cannot import it):
# `ipyparallel.interactive` rebinds them to the engine's __main__ namespace.

def _interactive(f):
    from ipyparallel import interactive
    return interactive(f)


_identity = _interactive(lambda x: x)
_noop = _interactive(lambda: None)


def measure_map(client, ntasks=2000):
    """lview.map_sync(lambda x: x, range(ntasks)); returns tasks/s."""
    lview = client.load_balanced_view()
    t0 = time.perf_counter()
    result = lview.map_sync(_identity, range(ntasks))
    dt = time.perf_counter() - t0
    if list(result) != list(range(ntasks)):
        raise ClusterError("map_sync returned a wrong result")
    return ntasks / dt


def measure_apply_async(client, ntasks=2000, timeout=300):
    """ntasks x lview.apply_async(f, i) then client.wait(); returns tasks/s."""
    lview = client.load_balanced_view()
    t0 = time.perf_counter()
    ars = [lview.apply_async(_identity, i) for i in range(ntasks)]
    if not client.wait(ars, timeout=timeout):
        raise ClusterError(f"{ntasks} apply_async tasks did not finish within {timeout}s")
    dt = time.perf_counter() - t0
    if [ar.get() for ar in ars] != list(range(ntasks)):
        raise ClusterError("apply_async returned wrong results")
    return ntasks / dt


def measure_direct_rtt(client, n=200):
    """Median seconds of n x client[0].apply_sync(lambda: None)."""
    view = client[client.ids[0]]
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        view.apply_sync(_noop)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def warm_up(client, n=20):
    client[:].apply_sync(_noop)
    client.load_balanced_view().map_sync(_identity, range(n))


if __name__ == "__main__":  # tiny smoke run: python3 bench/ippbench.py [ours|python]
    kind = sys.argv[1] if len(sys.argv) > 1 else controller_kind()
    cl = Cluster(kind=kind, n=2, name="smoke")
    try:
        c = cl.start()
        print(kind, "engines", c.ids, "registered in %.2fs" % cl.registration_seconds)
    finally:
        print("problems:", cl.stop())
