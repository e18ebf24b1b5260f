#!/usr/bin/python3
"""Fake batch schedulers for tests: PBS (Torque and PBS Pro), LSF, HTCondor, Windows HPC.

Each tool (qsub, bjobs, condor_rm, job, ...) is a symlink in testdata/fakebin/<scheduler>/ to
this file, which tells the scheduler from the directory name and the tool from the file name.
The tools print what the real ones print, keep their jobs in $FAKESCHED_DIR, run each job
(every array element, with its index variables and the submitting environment) in the
background on this host, write its output files and honour cancel and signals.

Each job records what its submit command was given (submit_argv, and the script's text), so
that tests can compare a dry run with what a real start submitted.

FAKESCHED_MISBEHAVE=noid|error|exit makes the submit command misbehave: submit but print no
job id; print an error message, submit nothing and exit 0; submit, print an error and exit 1.
"""
import fcntl
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

HOST = socket.gethostname()
SERVER = os.environ.get("FAKESCHED_SERVER", "server")
KILL_DELAY = 2.0  # seconds between SIGTERM and SIGKILL on cancel (PBS kill_delay)


def die(msg, code=1):
    sys.stderr.write(msg + "\n")
    sys.exit(code)


def state_dir():
    d = os.environ.get("FAKESCHED_DIR")
    if not d:
        die("%s (fake): FAKESCHED_DIR is not set" % os.path.basename(sys.argv[0]), 2)
    os.makedirs(os.path.join(d, "jobs"), exist_ok=True)
    return d


class Store:
    """Jobs as JSON files under one lock."""

    def __init__(self):
        self.dir = state_dir()
        self.lockf = open(os.path.join(self.dir, "lock"), "a")

    def __enter__(self):
        fcntl.flock(self.lockf, fcntl.LOCK_EX)
        return self

    def __exit__(self, *a):
        fcntl.flock(self.lockf, fcntl.LOCK_UN)

    def path(self, num):
        return os.path.join(self.dir, "jobs", "%d.json" % num)

    def next_id(self):
        p = os.path.join(self.dir, "seq")
        n = int(open(p).read()) + 1 if os.path.exists(p) else 100
        open(p, "w").write(str(n))
        return n

    def load(self, num):
        try:
            return json.load(open(self.path(num)))
        except (OSError, ValueError):
            return None

    def save(self, job):
        tmp = self.path(job["num"]) + ".tmp"
        json.dump(job, open(tmp, "w"))
        os.rename(tmp, self.path(job["num"]))

    def all(self):
        out = []
        for f in sorted(os.listdir(os.path.join(self.dir, "jobs")), key=lambda s: (len(s), s)):
            if f.endswith(".json"):
                j = self.load(int(f[:-5]))
                if j:
                    out.append(j)
        return out


def num_of(jobid):
    m = re.match(r"(\d+)", jobid)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------------------------------------
# Submitting


def parse_range(spec):
    """'1-4' or '1-4:1' or '3' -> [1, 2, 3, 4]"""
    spec = spec.split("%")[0]
    rng, _, step = spec.partition(":")
    a, _, b = rng.partition("-")
    return list(range(int(a), int(b or a) + 1, int(step or 1)))


def directives(text, prefix):
    """argv of the directive lines ("#PBS -N x" -> ["-N", "x"]) before the first command."""
    argv = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith(prefix):
            argv += shlex.split(s[len(prefix):], comments=False)
    return argv


def getopts(argv, with_value):
    """Options of a qsub/bsub command line: {opt: value or True}, positional args."""
    opts, rest, i = {}, [], 0
    while i < len(argv):
        a = argv[i]
        if a in with_value and i + 1 < len(argv):
            if a in ("-l",):
                opts.setdefault(a, []).append(argv[i + 1])
            else:
                opts[a] = argv[i + 1]
            i += 2
        elif a.startswith("-") and len(a) > 1:
            opts[a] = True
            i += 1
        else:
            rest.append(a)
            i += 1
    return opts, rest


def minimal_env(extra):
    env = {k: os.environ[k] for k in ("HOME", "USER", "LOGNAME", "SHELL", "LANG") if k in os.environ}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    env.update(extra)
    return env


def misbehave(store, submit):
    """Applies FAKESCHED_MISBEHAVE to a submit; returns True when the caller prints nothing more."""
    mode = os.environ.get("FAKESCHED_MISBEHAVE", "")
    msgs = ERRORS[SCHED]
    if mode == "noid":
        submit()
        print(msgs["noid"])
        return True
    if mode == "error":
        print(msgs["error"])
        sys.exit(0)
    if mode == "exit":
        submit()
        print(msgs["exit"])
        sys.exit(1)
    return False


ERRORS = {
    "pbs": {"noid": "qsub: job submitted", "error": "qsub: Unauthorized Request  MSG=group ACL is not satisfied: user root@%s, queue batch" % HOST,
            "exit": "qsub: Error (15007 - Timed out waiting for server response) on server %s" % SERVER},
    "pbspro": {"noid": "qsub: job submitted", "error": "qsub: Unauthorized Request ",
               "exit": "qsub: Failed to save job/resv, refer server logs for details"},
    "lsf": {"noid": "Job is submitted to default queue <normal>.", "error": "User permission denied. Job not submitted.",
            "exit": "Request aborted by esub. Job not submitted."},
    "htcondor": {"noid": "Submitting job(s).\nJob(s) submitted.", "error": "ERROR: Failed to connect to local queue manager\nAUTHENTICATE:1003:Failed to authenticate with any method",
                 "exit": "Submitting job(s).\nERROR: Failed to commit job submission into the queue."},
    "winhpc": {"noid": "Job has been submitted.", "error": "The scheduler could not be reached: connection refused.",
               "exit": "Job submission failed: the operation has timed out."},
}


def submission(script):
    """What a submit command was given, kept in the job so tests can compare it with the dry run."""
    return {"submit_argv": [os.path.basename(sys.argv[0])] + sys.argv[1:], "script": script}


def spawn_runner(num):
    subprocess.Popen([sys.executable, os.path.abspath(__file__), "--run", SCHED, str(num)], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))


def qsub(argv):
    opts, rest = getopts(argv, {"-N", "-o", "-e", "-q", "-j", "-l", "-t", "-J", "-A", "-W"})
    if not rest:
        die("qsub (fake): reading the script from stdin is not emulated; give a file")
    text = open(rest[0]).read()
    dopts, _ = getopts(directives(text, "#PBS"), {"-N", "-o", "-e", "-q", "-j", "-l", "-t", "-J", "-A", "-W"})
    dopts.update(opts)  # the command line wins
    if SCHED == "pbs" and "-J" in dopts:
        die("qsub: illegal -J value (Torque arrays are -t)", 1)
    if SCHED == "pbspro" and "-t" in dopts:
        die("qsub: invalid option -- 't'\nusage: qsub [-a date_time] [-A account_string] ... [-J X-Y[:Z]] ...", 2)
    arr = dopts.get("-t" if SCHED == "pbs" else "-J")
    idx = parse_range(arr) if arr else [None]
    name = dopts.get("-N", os.path.basename(rest[0]))[:236]
    cwd = os.getcwd()
    shell_argv = ["/bin/sh", os.path.abspath(rest[0])]
    with Store() as store:
        def submit():
            store_num = store.next_id()
            suffix = "[]" if arr else ""
            jid = "%d%s.%s" % (store_num, suffix, SERVER)
            join = dopts.get("-j", "n")
            out = dopts.get("-o") or os.path.join(cwd, "%s.o%d" % (name, store_num))
            err = out if join == "oe" else (dopts.get("-e") or os.path.join(cwd, "%s.e%d" % (name, store_num)))
            base = {"PBS_O_WORKDIR": cwd, "PBS_O_HOST": HOST, "PBS_JOBNAME": name, "PBS_QUEUE": dopts.get("-q", "batch"),
                    "PBS_ENVIRONMENT": "PBS_BATCH", "PBS_O_PATH": os.environ.get("PATH", "")}
            env = dict(os.environ) if "-V" in dopts else minimal_env({})
            env.update(base)
            job = {"num": store_num, "sched": SCHED, "id": jid, "name": name, "queue": base["PBS_QUEUE"], "array": bool(arr),
                   "output": out, "error": err, "env": env, "cwd": os.environ.get("HOME", "/"), "submitted": time.time(),
                   "cancelled": None, "elements": []}
            job.update(submission(text))
            for i in idx:
                e = {}
                if i is None:
                    e["PBS_JOBID"] = jid
                elif SCHED == "pbs":
                    e.update(PBS_JOBID="%d[%d].%s" % (store_num, i, SERVER), PBS_ARRAYID=str(i))
                else:
                    e.update(PBS_JOBID="%d[%d].%s" % (store_num, i, SERVER), PBS_ARRAY_INDEX=str(i), PBS_ARRAY_ID=jid)
                job["elements"].append({"index": i, "argv": shell_argv, "env": e, "state": "Q", "pid": 0, "exit": None})
            store.save(job)
            spawn_runner(store_num)
            return jid
        if misbehave(store, submit):
            return
        print(submit())


def bsub(argv):
    withv = {"-J", "-o", "-e", "-eo", "-oo", "-q", "-n", "-R", "-M", "-W", "-P", "-env", "-cwd"}
    opts, rest = getopts(argv, withv)
    if rest:
        text, argv_job = None, rest
    else:
        text = sys.stdin.read()
        argv_job = None
    if text is not None:
        d, _ = getopts(directives(text, "#BSUB"), withv)
        d.update(opts)
        opts = d
    jname = opts.get("-J", "")
    m = re.match(r"^(.*?)\[(\d+)-(\d+)\]$", jname)
    if m:
        name, idx = m.group(1), list(range(int(m.group(2)), int(m.group(3)) + 1))
    else:
        name, idx = jname or (text and "sh" or " ".join(rest)), [0]
    queue = opts.get("-q", "normal")
    cwd = os.getcwd()
    with Store() as store:
        def submit():
            num = store.next_id()
            script = None
            if text is not None:
                script = os.path.join(store.dir, "jobs", "%d.script" % num)
                open(script, "w").write(text)
            run = ["/bin/sh", script] if script else ["/bin/sh", "-c", " ".join(shlex.quote(a) for a in argv_job)]
            sub = lambda p: p and p.replace("%J", str(num)).replace("%I", "%I")
            out = sub(opts.get("-o") or opts.get("-oo"))
            err = sub(opts.get("-e") or opts.get("-eo")) or out
            env = dict(os.environ)  # LSF copies the submission environment by default
            env.update(LSB_JOBID=str(num), LSB_JOBNAME=jname or name, LSB_QUEUE=queue, LS_SUBCWD=cwd)
            job = {"num": num, "sched": SCHED, "id": str(num), "name": name, "queue": queue, "array": len(idx) > 1 or bool(m),
                   "output": out or os.devnull, "error": err or os.devnull, "env": env, "cwd": cwd, "submitted": time.time(),
                   "cancelled": None, "elements": [{"index": i, "argv": run, "env": {"LSB_JOBINDEX": str(i)}, "state": "Q", "pid": 0,
                                                    "exit": None} for i in idx]}
            job.update(submission(text))
            store.save(job)
            spawn_runner(num)
            return num
        if misbehave(store, submit):
            return
        num = submit()
    print("Job <%d> is submitted to queue <%s>." % (num, queue))


def condor_submit(argv):
    files = [a for a in argv if not a.startswith("-")]
    if not files:
        die("condor_submit (fake): no submit description file")
    desc, queue_n = {}, None
    for line in open(files[0]):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if re.match(r"(?i)^queue\b", s):
            rest = s[5:].strip()
            queue_n = int(rest) if rest else 1
            continue
        k, _, v = s.partition("=")
        desc[k.strip().lower()] = v.strip()
    if queue_n is None:
        die("ERROR: no 'queue' statement in %s" % files[0])
    exe = desc.get("executable")
    if not exe:
        die("ERROR: Executable file not specified, use the executable command")
    cwd = desc.get("initialdir", os.getcwd())
    with Store() as store:
        def submit():
            num = store.next_id()
            sub = lambda s, p: s and s.replace("$(Process)", str(p)).replace("$(Cluster)", str(num)).replace("$(ClusterId)", str(num))
            env = dict(os.environ) if desc.get("getenv", "false").lower() in ("true", "1", "yes") else minimal_env({})
            for kv in re.findall(r"(\S+?)=('[^']*'|\S+)", desc.get("environment", "").strip('"')):
                env[kv[0]] = kv[1].strip("'")
            els = []
            for p in range(queue_n):
                args = shlex.split(sub(desc.get("arguments", ""), p).strip('"'))
                els.append({"index": p, "argv": [exe] + args, "env": {"_CONDOR_SCRATCH_DIR": cwd}, "state": "Q", "pid": 0, "exit": None,
                            "output": sub(desc.get("output"), p) or os.devnull, "error": sub(desc.get("error"), p) or os.devnull})
            job = {"num": num, "sched": SCHED, "id": str(num), "name": desc.get("batch_name", "ID: %d" % num), "queue": "",
                   "array": queue_n > 1, "output": None, "error": None, "env": env, "cwd": cwd, "submitted": time.time(),
                   "cancelled": None, "elements": els, "log": sub(desc.get("log"), 0)}
            job.update(submission(open(files[0]).read()))
            store.save(job)
            spawn_runner(num)
            return num
        if misbehave(store, submit):
            return
        num = submit()
    print("Submitting job(s)%s\n%d job(s) submitted to cluster %d." % ("." * queue_n, queue_n, num))


def winhpc_submit(args):
    jobfile = next((a.split(":", 1)[1] for a in args if a.lower().startswith("/jobfile:")), None)
    if not jobfile:
        die("job submit (fake): only /jobfile:<file> is emulated")
    ns = {"h": "http://schemas.microsoft.com/HPCS2008/scheduler/"}
    try:
        root = ET.parse(jobfile).getroot()
    except ET.ParseError as e:
        die("The job file %s is not valid XML: %s" % (jobfile, e))
    with Store() as store:
        def submit():
            num = store.next_id()
            els = []
            for i, t in enumerate(root.iter("{%s}Task" % ns["h"])):
                env = {}
                for v in t.iter("{%s}Variable" % ns["h"]):
                    env[v.findtext("h:Name", "", ns)] = v.findtext("h:Value", "", ns)
                wd = t.get("WorkDirectory") or os.environ.get("HOME", "/")
                out = t.get("StdOutFilePath")
                err = t.get("StdErrFilePath")
                env.update(CCP_JOBID=str(num), CCP_TASKID=str(i + 1), CCP_TASKSYSTEMID=str(num * 1000 + i))
                els.append({"index": i, "argv": ["/bin/sh", "-c", t.get("CommandLine", "")], "env": env, "state": "Q", "pid": 0, "exit": None,
                            "cwd": wd, "output": os.path.join(wd, out) if out else os.devnull,
                            "error": os.path.join(wd, err) if err else os.devnull})
            job = {"num": num, "sched": SCHED, "id": str(num), "name": root.get("Name", ""), "queue": "", "array": False,
                   "output": None, "error": None, "env": minimal_env({}), "cwd": "/", "submitted": time.time(), "cancelled": None,
                   "elements": els}
            job.update(submission(open(jobfile).read()))
            store.save(job)
            spawn_runner(num)
            return num
        if misbehave(store, submit):
            return
        num = submit()
    print("Job has been submitted. ID: %d." % num)


# ---------------------------------------------------------------------------------------------
# Running (the detached runner process of one job)


def run_job(num):
    store = Store()
    procs = {}
    with store:
        job = store.load(num)
        if job is None:
            return
        if job["cancelled"] is None:
            for e in job["elements"]:
                env = dict(job["env"])
                env.update(e.get("env", {}))
                out = e.get("output") or job["output"]
                err = e.get("error") or job["error"]
                fo = open(out, "a") if out else subprocess.DEVNULL
                fe = fo if err == out else (open(err, "a") if err else subprocess.DEVNULL)
                try:
                    p = subprocess.Popen(e["argv"], env=env, cwd=e.get("cwd") or job["cwd"], stdin=subprocess.DEVNULL,
                                         stdout=fo, stderr=fe, start_new_session=True)
                except OSError as ex:
                    e["state"], e["exit"] = "done", 127
                    if fe is not subprocess.DEVNULL:
                        fe.write("%s: %s\n" % (e["argv"][0], ex))
                    continue
                procs[e["index"]] = p
                e["state"], e["pid"], e["start"] = "R", p.pid, time.time()
        else:
            for e in job["elements"]:
                e["state"] = "done"
        store.save(job)
    while procs:
        time.sleep(0.05)
        with store:
            job = store.load(num)
            for e in job["elements"]:
                p = procs.get(e["index"])
                if p is None:
                    continue
                rc = p.poll()
                if rc is not None:
                    e["state"], e["exit"] = "done", (128 - rc if rc < 0 else rc)
                    del procs[e["index"]]
                elif job["cancelled"] and time.time() - job["cancelled"] > KILL_DELAY:
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            store.save(job)
    with store:
        job = store.load(num)
        job["ended"] = time.time()
        store.save(job)


def signal_job(job, sig):
    for e in job["elements"]:
        if e["state"] == "R" and e["pid"]:
            try:
                os.killpg(e["pid"], sig)
            except ProcessLookupError:
                pass


def cancel(store, job):
    if job["cancelled"] is None:
        job["cancelled"] = time.time()
        store.save(job)
    signal_job(job, signal.SIGTERM)


def ended(job):
    return all(e["state"] == "done" for e in job["elements"]) and (job.get("ended") or job["cancelled"])


def sig_of(name):
    name = name.upper()
    if name.isdigit():
        return int(name)
    return getattr(signal, name if name.startswith("SIG") else "SIG" + name)


# ---------------------------------------------------------------------------------------------
# PBS


def pbs_state(job):
    states = [e["state"] for e in job["elements"]]
    if ended(job):
        return "C" if SCHED == "pbs" else "F"
    if "R" in states:
        return "B" if SCHED == "pbspro" and job["array"] else "R"
    return "Q"


def pbs_block(job):
    st = pbs_state(job)
    lines = ["Job Id: %s" % job["id"], "    Job_Name = %s" % job["name"], "    Job_Owner = %s@%s" % (os.environ.get("USER", "root"), HOST),
             "    job_state = %s" % st, "    queue = %s" % job["queue"], "    server = %s" % SERVER]
    running = [e for e in job["elements"] if e["state"] == "R"]
    if running and not (SCHED == "pbspro" and job["array"]):
        lines.append("    exec_host = " + "+".join("%s/%d" % (HOST, i) for i, _ in enumerate(running)))
    if job["array"]:
        lines.append("    array = True" if SCHED == "pbspro" else "    job_array_request = %s" % ",".join(str(e["index"]) for e in job["elements"]))
    if st in ("C", "F"):
        codes = [e["exit"] for e in job["elements"] if e["exit"]]
        code = 271 if job["cancelled"] else (codes[0] if codes else 0)
        lines.append("    exit_status = %d" % code if SCHED == "pbs" else "    Exit_status = %d" % code)
    lines.append("    Output_Path = %s:%s" % (HOST, job["output"]))
    return "\n".join(lines) + "\n"


def find(store, jobid):
    n = num_of(jobid)
    return store.load(n) if n is not None else None


def qstat(argv):
    full = "-f" in argv
    history = "-x" in argv or "-H" in argv
    ids = [a for a in argv if not a.startswith("-")]
    out, code = [], 0
    with Store() as store:
        jobs = [find(store, i) for i in ids] if ids else [j for j in store.all() if not (SCHED == "pbspro" and ended(j))]
        for jid, job in zip(ids or [None] * len(jobs), jobs):
            if job is None:
                sys.stderr.write("qstat: Unknown Job Id %s\n" % jid)
                code = 153 if SCHED == "pbs" else 35
                continue
            if SCHED == "pbspro" and ended(job) and not history:
                sys.stderr.write("qstat: %s Job has finished, use -x or -H to obtain historical job information\n" % job["id"])
                code = 35
                continue
            out.append(job)
    if full:
        sys.stdout.write("\n".join(pbs_block(j) for j in out))
    elif out:
        print("Job ID                    Name             User            Time Use S Queue")
        print("------------------------- ---------------- --------------- -------- - -----")
        for j in out:
            print("%-25s %-16s %-15s %8s %s %s" % (j["id"], j["name"][:16], os.environ.get("USER", "root"), "0", pbs_state(j), j["queue"]))
    sys.exit(code)


def qselect(argv):
    opts, _ = getopts(argv, {"-N", "-s", "-q"})
    with Store() as store:
        for j in store.all():
            if "-N" in opts and j["name"] != opts["-N"]:
                continue
            if SCHED == "pbspro" and ended(j):
                continue
            print(j["id"])


def qdel(argv):
    code = 0
    with Store() as store:
        for jid in [a for a in argv if not a.startswith("-")]:
            job = find(store, jid)
            if job is None:
                sys.stderr.write("qdel: Unknown Job Id %s\n" % jid)
                code = 153 if SCHED == "pbs" else 15001
            elif ended(job):
                if SCHED == "pbspro":
                    sys.stderr.write("qdel: Job has finished %s\n" % jid)
                    code = 35
                else:
                    sys.stderr.write("qdel: Invalid state for job - COMPLETE %s\n" % jid)
                    code = 168
            else:
                cancel(store, job)
    sys.exit(code)


def qsig(argv):
    opts, ids = getopts(argv, {"-s"})
    sig = sig_of(opts.get("-s", "SIGTERM"))
    code = 0
    with Store() as store:
        for jid in ids:
            job = find(store, jid)
            if job is None or ended(job):
                sys.stderr.write("qsig: Unknown Job Id %s\n" % jid if job is None else "qsig: Request invalid for state of job %s\n" % jid)
                code = 153
            else:
                signal_job(job, sig)
    sys.exit(code)


# ---------------------------------------------------------------------------------------------
# LSF


def lsf_stat(job, e):
    if e["state"] == "R":
        return "RUN"
    if e["state"] == "Q":
        return "PEND"
    return "DONE" if e["exit"] == 0 and not job["cancelled"] else "EXIT"


def bjobs(argv):
    fmt, i, ids, noheader = "jobid stat user queue exec_host job_name", 0, [], False
    while i < len(argv):
        if argv[i] == "-o":
            fmt, i = argv[i + 1], i + 2
            continue
        if argv[i] == "-noheader":
            noheader = True
        elif argv[i] == "-a":
            pass
        elif not argv[i].startswith("-"):
            ids.append(argv[i])
        i += 1
    m = re.search(r"delimiter='(.*?)'", fmt)
    delim = m.group(1) if m else " "
    fields = re.sub(r"delimiter='.*?'", "", fmt).split()
    code = 0
    rows = []
    with Store() as store:
        jobs = []
        for jid in ids:
            j = find(store, jid)
            if j is None:
                sys.stderr.write("Job <%s> is not found\n" % jid)
                code = 255
            else:
                jobs.append(j)
        if not ids:
            jobs = [j for j in store.all() if not ended(j)]
            if not jobs:
                sys.stderr.write("No unfinished job found\n")
    for j in jobs:
        for e in j["elements"]:
            stat = lsf_stat(j, e)
            vals = {"jobid": str(j["num"]), "stat": stat, "user": os.environ.get("USER", "root"), "queue": j["queue"],
                    "exec_host": HOST if stat == "RUN" else "-",
                    "exit_code": str(e["exit"]) if stat == "EXIT" and e["exit"] else "-",
                    "pend_reason": "New job is waiting for scheduling" if stat == "PEND" else "-",
                    "job_name": j["name"] + ("[%d]" % e["index"] if j["array"] else ""),
                    "name": j["name"] + ("[%d]" % e["index"] if j["array"] else "")}
            rows.append(delim.join(vals.get(f.split(":")[0], "-") for f in fields))
    if rows and not noheader:
        print(delim.join(f.upper() for f in fields))
    for r in rows:
        print(r)
    sys.exit(code)


def bkill(argv):
    opts, ids = getopts(argv, {"-s", "-J"})
    sig = sig_of(opts["-s"]) if "-s" in opts else None
    code = 0
    with Store() as store:
        jobs = []
        if "-J" in opts:
            jobs = [j for j in store.all() if j["name"] == opts["-J"] and not ended(j)]
            if not jobs:
                print("No unfinished job found")
                code = 255
        for jid in ids:
            j = find(store, jid)
            if j is None:
                print("Job <%s>: No matching job found" % jid)
                code = 255
            elif ended(j):
                print("Job <%s>: Job has already finished" % jid)
                code = 255
            else:
                jobs.append(j)
        for j in jobs:
            if sig is None:
                cancel(store, j)
                print("Job <%d> is being terminated" % j["num"])
            else:
                signal_job(j, sig)
                print("Job <%d> is being signaled" % j["num"])
    sys.exit(code)


# ---------------------------------------------------------------------------------------------
# HTCondor


def condor_status(job, e):
    if job["cancelled"]:
        return 3
    return {"Q": 1, "R": 2}.get(e["state"], 4)


def condor_q(argv):
    ids, attrs, i, delim, constraint = [], None, 0, " ", None
    while i < len(argv):
        a = argv[i]
        if a.startswith("-af"):
            delim = "\t" if ":t" in a else " "
            attrs = [x for x in argv[i + 1:] if not x.startswith("-")]
            break
        if a == "-constraint":
            constraint, i = argv[i + 1], i + 2
            continue
        if not a.startswith("-"):
            ids.append(a)
        i += 1
    want = {num_of(x) for x in ids}
    with Store() as store:
        # removed jobs show JobStatus 3 until their processes are gone, then leave the queue
        jobs = [j for j in store.all() if (not ids or j["num"] in want) and not ended(j)]
    if constraint:
        m = re.match(r'\s*JobBatchName\s*==\s*"(.*)"\s*$', constraint)
        jobs = [j for j in jobs if m and j["name"] == m.group(1)]
    if attrs is None:
        print("\n\n-- Schedd: %s : <127.0.0.1:9618?...\nOWNER BATCH_NAME    SUBMITTED   DONE   RUN    IDLE  TOTAL JOB_IDS" % HOST)
        for j in jobs:
            print("%s %s  %d" % (os.environ.get("USER", "root"), j["name"], j["num"]))
        return
    for j in jobs:
        for e in j["elements"]:
            st = condor_status(j, e)
            vals = {"ClusterId": str(j["num"]), "ProcId": str(e["index"]), "JobStatus": str(st),
                    "RemoteHost": "slot%d@%s" % (e["index"] + 1, HOST) if st == 2 else "undefined",
                    "ExitCode": "undefined", "HoldReason": "undefined", "JobBatchName": j["name"]}
            print(delim.join(vals.get(a, "undefined") for a in attrs))


def condor_rm(argv):
    with Store() as store:
        if argv[:1] == ["-constraint"]:
            m = re.match(r'\s*JobBatchName\s*==\s*"(.*)"\s*$', argv[1] if len(argv) > 1 else "")
            jobs = [j for j in store.all() if m and j["name"] == m.group(1) and not ended(j) and not j["cancelled"]]
            for j in jobs:
                cancel(store, j)
            if not jobs:
                print("Couldn't find/remove all jobs matching constraint (%s)" % (argv[1] if len(argv) > 1 else ""))
                sys.exit(1)
            print("All jobs matching constraint (%s) have been marked for removal" % argv[1])
            return
        code = 0
        for jid in argv:
            j = find(store, jid)
            if j is None or ended(j) or j["cancelled"]:
                print("Couldn't find/remove all jobs in cluster %s" % jid)
                code = 1
            else:
                cancel(store, j)
                print("All jobs in cluster %s have been marked for removal" % jid)
        sys.exit(code)


# ---------------------------------------------------------------------------------------------
# Windows HPC


def winhpc_state(job):
    if ended(job):
        if job["cancelled"]:
            return "Canceled"
        return "Failed" if any(e["exit"] for e in job["elements"]) else "Finished"
    if job["cancelled"]:
        return "Canceling"
    return "Running" if any(e["state"] == "R" for e in job["elements"]) else "Queued"


def job_cmd(argv):
    if not argv:
        die("Usage: job {add|cancel|list|modify|new|requeue|submit|view} ...")
    sub, args = argv[0].lower(), [a for a in argv[1:] if not a.lower().startswith("/scheduler:")]
    if sub == "submit":
        return winhpc_submit(args)
    ids = [a for a in args if not a.startswith("/")]
    with Store() as store:
        if sub == "view":
            j = find(store, ids[0]) if ids else None
            if j is None:
                die("The job %s was not found." % (ids[0] if ids else ""), 1)
            st = winhpc_state(j)
            print("Id                  : %d" % j["num"])
            print("State               : %s" % st)
            print("Name                : %s" % j["name"])
            print("Owner               : %s\\%s" % (HOST.upper(), os.environ.get("USER", "root")))
            if st == "Running":
                print("Allocated Nodes     : %s" % HOST.upper())
            print("Number of tasks     : %d" % len(j["elements"]))
            return
        if sub == "cancel":
            j = find(store, ids[0]) if ids else None
            if j is None:
                die("The job %s was not found." % (ids[0] if ids else ""), 1)
            if ended(j):
                die("Job %d cannot be canceled: it is %s." % (j["num"], winhpc_state(j)), 1)
            cancel(store, j)
            print("Job %d was canceled." % j["num"])
            return
        if sub == "list":
            opts = dict(a[1:].lower().split(":", 1) for a in args if a.startswith("/") and ":" in a)
            jobs = [j for j in store.all() if not ended(j)
                    and ("jobname" not in opts or j["name"].lower() == opts["jobname"])]
            if opts.get("format") == "list":
                for j in jobs:
                    print("Id                  : %d" % j["num"])
                    print("Owner               : %s\\%s" % (HOST.upper(), os.environ.get("USER", "root")))
                    print("Name                : %s" % j["name"])
                    print("State               : %s" % winhpc_state(j))
                    print("Priority            : Normal")
                    print("")
                return
            print("Id         Owner           Name                 State        Priority")
            print("---------- --------------- -------------------- ------------ --------")
            for j in jobs:
                print("%-10d %-15s %-20s %-12s Normal" % (j["num"], os.environ.get("USER", "root"), j["name"], winhpc_state(j)))
            return
    die("job %s (fake): not emulated" % sub)


TOOLS = {
    "pbs": {"qsub": qsub, "qstat": qstat, "qdel": qdel, "qsig": qsig, "qselect": qselect},
    "pbspro": {"qsub": qsub, "qstat": qstat, "qdel": qdel, "qsig": qsig, "qselect": qselect},
    "lsf": {"bsub": bsub, "bjobs": bjobs, "bkill": bkill},
    "htcondor": {"condor_submit": condor_submit, "condor_q": condor_q, "condor_rm": condor_rm},
    "winhpc": {"job": job_cmd},
}

def killall(d):
    """Kills every element still running (test clean-up) and waits for the runners."""
    os.environ["FAKESCHED_DIR"] = d
    store = Store()
    deadline = time.time() + 10
    while True:
        with store:
            live = [j for j in store.all() if not j.get("ended")]
            for j in live:
                for e in j["elements"]:
                    if e["state"] == "R" and e["pid"]:
                        try:
                            os.killpg(e["pid"], signal.SIGKILL)
                        except ProcessLookupError:
                            pass
        if not live or time.time() > deadline:
            return
        time.sleep(0.05)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--killall":
        killall(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "--run":
        SCHED = sys.argv[2]
        run_job(int(sys.argv[3]))
        sys.exit(0)
    SCHED = os.path.basename(os.path.dirname(os.path.abspath(sys.argv[0])))
    tool = os.path.basename(sys.argv[0])
    fn = TOOLS.get(SCHED, {}).get(tool)
    if fn is None:
        die("fakesched: no fake %s for %s" % (tool, SCHED), 2)
    fn(sys.argv[1:])
