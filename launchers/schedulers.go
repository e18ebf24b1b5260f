package launchers

import "regexp"

// Scheduler is one batch system (or one site dialect of it), as data: the commands, how to
// find the job id in what submit prints, how to read states, and how to spell directives.
// The batch launcher is the same for all of them.
type Scheduler struct {
	Name  string // launcher name: slurm, pbs, pbspro, sge, lsf, htcondor, winhpc
	Title string // for messages
	// Class is ipyparallel's class-name stem (Slurm for SlurmEngineSetLauncher, ...); Aliases
	// are more names that select the row.
	Class   string
	Aliases []string
	// ParentEngineClasses and ParentControllerClasses are ipyparallel's scheduler launcher
	// classes the row's settings fall back to, read after its own (PBS Pro reads the PBS ones;
	// ipyparallel's SGELauncher subclasses PBSLauncher).
	ParentEngineClasses, ParentControllerClasses []string
	// Commands, as argv. Submit gets "{file}" replaced by the script path (without "{file}"
	// the path is appended, or the script goes to its standard input when SubmitStdin is
	// set); Cancel and Signal get the job ids appended and "{sig}" replaced by the signal name
	// (no Signal: signals are not supported); Status gets "{ids}" replaced by the comma-joined
	// ids (or the ids appended when it has no "{ids}", unless StatusListsAll).
	Submit, Cancel, Signal, Status []string
	SubmitStdin                    bool // Submit without "{file}" reads the script on its standard input (bsub)
	// StatusListsAll: Status takes no job ids and lists every job (Grid Engine's qstat); Parse
	// reads them all and the handle's are picked by id.
	StatusListsAll bool
	// SchedulerArg, when set, is added with the scheduler option (c.<Class>Launcher.scheduler)
	// appended to the submit, status and cancel commands (Windows HPC's "/scheduler:").
	SchedulerArg string
	// Explain, when set, is run per pending job ("{id}") for its pending reason.
	Explain      []string
	ExplainMatch string // regexp; group 1 of each matching line is the reason
	// JobIDRegexp finds the job id in what Submit printed (group JobIDGroup).
	JobIDRegexp string
	JobIDGroup  int
	// Parse reads Status output (and List output) into job lines; parseDelimited splits lines
	// at Sep into Fields (id, state, reason, hosts, start, exit, name; "-" ignored).
	Parse  func(row Scheduler, out string) []jobLine
	Sep    string
	Fields []string
	// Gone matches Status output (and Cancel output) that means the jobs no longer exist.
	Gone string
	// States maps the scheduler's state words to phases and, for ended jobs, causes.
	States map[string]StateInfo
	// Template is the base name of the embedded templates (templates/files/<name>.<role>.tmpl).
	Template string
	Ext      string // batch file name extension
	// BodyFile: the description names a shell script, written beside it (HTCondor, WinHPC).
	BodyFile bool
	// Tasks: engines are the tasks of one job started by Launch (Slurm's srun), not array elements.
	Tasks  bool
	Launch string
	// IndexVar is the array index variable inside an element ("1" for the body's $1).
	IndexVar string
	// Directives are the header lines, each with {placeholders}; a line whose placeholders are
	// not all set is left out. "{?x}" requires x but writes nothing; "[[...]]" is a segment
	// left out when its placeholders are not set (a line whose segments are all left out goes
	// too); {array} is ArrayName for arrays and may be empty. Prefix starts each line (and
	// extra directives).
	Prefix     string
	Directives []string
	// ArrayDirective is added for engine sets of more than one element.
	ArrayDirective string
	// ArrayName is {array} of the directives for engine sets of more than one element, with
	// {elements} filled in (LSF's "-J name[1-N]").
	ArrayName string
	// CancelByName cancels jobs by name ({name}), for a submission whose id could not be read.
	CancelByName []string
	// NameArgs go on the submit command line to name a job whose template is the user's and
	// does not name it itself: a name given there would override the template's own.
	NameArgs []string
	// NameDirective finds the job name a script sets itself (group 1); ipyparallel names jobs
	// in its default templates only, so a user's template keeps its name.
	NameDirective string
	// FindByName lists the ids of jobs named {name}, one a line (for schedulers whose cancel
	// command cannot take a name).
	FindByName []string
	// FindIDRegexp picks the ids out of FindByName's output (default: every word is an id).
	FindIDRegexp string
	// List lists all the user's jobs, for `ipcluster clean --jobs`; ListFields name the fields
	// of its lines for the delimited parser (the other parsers read names themselves).
	List       []string
	ListFields []string
	// StateWords are the words shown for state codes (HTCondor's JobStatus numbers).
	StateWords map[string]string
	// MemoryUnit is how memory is written: slurm (M/G), pbs (mb/gb), sge (M/G), kb, mb.
	MemoryUnit string
	// WalltimeForm is hms (HH:MM:SS), hm (HH:MM) or s (seconds).
	WalltimeForm string
	// SubmitEnv is added to the environment of Submit.
	SubmitEnv map[string]string
	// Accounting, when set, is run ("{id}") for a job that left the queue before every element
	// recorded its exit status (the scheduler killed it: no chance to write one). Its output,
	// read by AccountingParse into one record per element (see parseQacct), gives the cause:
	// the first of AccountingCauses matching a record of such an element.
	Accounting       []string
	AccountingParse  func(out string) []map[string]string
	AccountingCauses []AccountingCause
}

// AccountingCause is what an accounting record means: Match maps field names to regexps that
// must all match (a field the record lacks is ""); {field} in Cause is replaced by the field.
type AccountingCause struct {
	Match map[string]string
	Cause string
}

// StateInfo is what a scheduler's state word means.
type StateInfo struct {
	Phase Phase
	Cause string // why it ended or waits, in words
}

func (s *Scheduler) jobIDRegexp() *regexp.Regexp { return regexp.MustCompile(s.JobIDRegexp) }

// Causes shared by several rows.
const (
	causeWalltime = "killed by its time limit (walltime)"
	causeMemory   = "out of memory"
)

// Schedulers are the built-in rows.
func Schedulers() []Scheduler {
	return []Scheduler{
		{
			Name: "slurm", Title: "Slurm", Class: "Slurm",
			Submit: []string{"sbatch", "{file}"}, Cancel: []string{"scancel"}, Signal: []string{"scancel", "--signal={sig}"},
			Status:      []string{"squeue", "--noheader", "--states=all", "--jobs={ids}", "--format=%i|%T|%r|%N|%S|%M|%L"},
			JobIDRegexp: `Submitted batch job (\d+)`, JobIDGroup: 1, Parse: parseDelimited, Sep: "|",
			Fields: []string{"id", "state", "reason", "hosts", "start", "elapsed", "left"},
			Gone:   `Invalid job id specified`,
			States: map[string]StateInfo{
				"PENDING": {Pending, ""}, "CONFIGURING": {Pending, "configuring"}, "REQUEUED": {Pending, "requeued"},
				"SUSPENDED": {Pending, "suspended"}, "RESV_DEL_HOLD": {Pending, "held"},
				"RUNNING": {Running, ""}, "COMPLETING": {Running, ""}, "STAGE_OUT": {Running, ""}, "SIGNALING": {Running, ""},
				"COMPLETED": {Done, ""}, "CANCELLED": {Failed, "cancelled"}, "TIMEOUT": {Failed, causeWalltime},
				"DEADLINE": {Failed, "killed at its deadline"}, "OUT_OF_MEMORY": {Failed, causeMemory},
				"NODE_FAIL": {Failed, "node failure"}, "BOOT_FAIL": {Failed, "node failed to boot"}, "PREEMPTED": {Failed, "preempted"},
				"FAILED": {Failed, "non-zero exit"}, "REVOKED": {Failed, "revoked"},
			},
			Template: "slurm", Ext: ".sbatch", Tasks: true, Launch: "srun ",
			Prefix: "#SBATCH",
			Directives: []string{"--job-name={name}", "--ntasks={n}", "--cpus-per-task={cores}", "--ntasks-per-node={per_node}",
				"--mem-per-cpu={mem_per_cpu}", "--partition={queue}", "--account={account}", "--qos={qos}", "--time={walltime}",
				"--output={output}", "--export=ALL"},
			CancelByName: []string{"scancel", "--name={name}"},
			NameArgs:     []string{"--job-name={name}"}, NameDirective: `(?m)^#SBATCH[ \t]+(?:--job-name[= \t][ \t]*|-J[ \t]*)([^\s#]+)`,
			MemoryUnit: "slurm", WalltimeForm: "hms",
			List: []string{"squeue", "--noheader", "--me", "--format=%i|%j|%T"}, ListFields: []string{"id", "name", "state"},
		},
		torque(),
		pbsPro(),
		{
			Name: "sge", Title: "Grid Engine", Class: "SGE",
			ParentEngineClasses: []string{"PBSLauncher"}, ParentControllerClasses: []string{"PBSLauncher"},
			Submit: []string{"qsub", "{file}"}, Cancel: []string{"qdel"}, Status: []string{"qstat"}, StatusListsAll: true,
			Explain: []string{"qstat", "-j", "{id}"}, ExplainMatch: `^(?:scheduling info|error reason\s+\d+):\s*(.*\S)`,
			JobIDRegexp: `Your job(?:-array)? (\d+)`, JobIDGroup: 1, Parse: parseSGE,
			Gone: `do not exist`,
			States: map[string]StateInfo{
				"qw": {Pending, ""}, "hqw": {Pending, "held"}, "hRwq": {Pending, "held"}, "Rq": {Pending, "rescheduled"},
				"t": {Running, ""}, "r": {Running, ""}, "Rr": {Running, ""}, "Rt": {Running, ""}, "s": {Running, "suspended"},
				"S": {Running, "suspended"}, "dr": {Running, "being deleted"}, "dt": {Running, "being deleted"},
				"Eqw": {Failed, "error state (Eqw)"}, "Ehqw": {Failed, "error state (Ehqw)"},
			},
			Template: "sge", Ext: ".sh", IndexVar: "SGE_TASK_ID",
			Prefix: "#$",
			Directives: []string{"-N {name}", "-pe smp {cores}", "-l h_vmem={memory}", "-l h_rt={walltime}", "-q {queue}",
				"-P {account}", "-j y", "-o {output}", "-V", "-S /bin/sh"},
			CancelByName:   []string{"qdel", "{name}"},
			ArrayDirective: "-t 1-{elements}", NameArgs: []string{"-N", "{name}"}, NameDirective: `(?m)^#\$[ \t]+-N[ \t]+([^\s#]+)`,
			MemoryUnit: "sge", WalltimeForm: "hms",
			List: []string{"qstat", "-r"},
			// A job past h_rt (or h_cpu, h_vmem) gets SIGKILL from execd; qacct then says
			// "failed 37 : qmaster enforced h_rt, h_cpu, or h_vmem limit", exit_status 137. The
			// qacct parser adds "over": the time limits of the request (category) the job used up.
			// qdel of a running job: "failed 100 : assumedly after job", exit_status 137.
			Accounting: []string{"qacct", "-j", "{id}"}, AccountingParse: parseQacct,
			AccountingCauses: []AccountingCause{
				{Match: map[string]string{"failed": `^37\b`, "over": `\bh_rt\b`}, Cause: causeWalltime},
				{Match: map[string]string{"failed": `^37\b`, "over": `\bh_cpu\b`}, Cause: "killed by its CPU time limit (h_cpu)"},
				{Match: map[string]string{"failed": `^37\b`, "category": `\bh_vmem=`}, Cause: causeMemory + " (h_vmem)"},
				{Match: map[string]string{"failed": `^37\b`, "category": `\bh_rt=`}, Cause: causeWalltime},
				{Match: map[string]string{"failed": `^37\b`}, Cause: "killed by a limit ({failed})"},
				{Match: map[string]string{"failed": `^100\b`, "exit_status": `^137\b`}, Cause: "cancelled"},
				{Match: map[string]string{"failed": `^[1-9]`}, Cause: "failed ({failed})"},
				{Match: map[string]string{"exit_status": `^[1-9]`}, Cause: "non-zero exit"},
			},
		},
		{
			Name: "lsf", Title: "LSF", Class: "LSF",
			Submit: []string{"bsub"}, SubmitStdin: true, Cancel: []string{"bkill"}, Signal: []string{"bkill", "-s", "{sig}"},
			Status:      []string{"bjobs", "-noheader", "-o", "jobid stat exec_host exit_code pend_reason delimiter='|'"},
			JobIDRegexp: `Job <(\d+)> is submitted`, JobIDGroup: 1, Parse: parseDelimited, Sep: "|",
			Fields: []string{"id", "state", "hosts", "exit", "reason"},
			Gone:   `is not found`,
			States: map[string]StateInfo{
				"PEND": {Pending, ""}, "PSUSP": {Pending, "suspended"}, "WAIT": {Pending, ""},
				"RUN": {Running, ""}, "USUSP": {Running, "suspended"}, "SSUSP": {Running, "suspended"},
				"DONE": {Done, ""}, "EXIT": {Failed, "non-zero exit"}, "ZOMBI": {Failed, "lost (node failure)"}, "UNKWN": {Failed, "unknown (node unreachable)"},
			},
			Template: "lsf", Ext: ".sh", IndexVar: "LSB_JOBINDEX",
			Prefix:    "#BSUB",
			ArrayName: "[1-{elements}]",
			Directives: []string{"-J {name}{array}", "-n {cores}", `-R "span[hosts=1]"{?cores}`, "-M {memory}", "-W {walltime}",
				"-q {queue}", "-P {account}", "-o {output}", "-env all"},
			CancelByName: []string{"bkill", "-J", "{name}"}, NameDirective: `(?m)^#BSUB[ \t]+-J[ \t]+([^\s#\[]+)`,
			MemoryUnit: "kb", WalltimeForm: "hm", SubmitEnv: map[string]string{"LSB_STDOUT_DIRECT": "Y"},
			List: []string{"bjobs", "-noheader", "-o", "jobid job_name stat delimiter='|'"}, ListFields: []string{"id", "name", "state"},
		},
		{
			Name: "htcondor", Title: "HTCondor", Class: "HTCondor", Aliases: []string{"condor"},
			Submit: []string{"condor_submit", "{file}"}, Cancel: []string{"condor_rm"},
			Status:      []string{"condor_q", "{ids}", "-af:t", "ClusterId", "JobStatus", "RemoteHost", "ExitCode", "HoldReason"},
			JobIDRegexp: `submitted to cluster (\d+)\.`, JobIDGroup: 1, Parse: parseDelimited, Sep: "\t",
			Fields:        []string{"id", "state", "hosts", "exit", "reason"},
			CancelByName:  []string{"condor_rm", "-constraint", `JobBatchName == "{name}"`},
			NameDirective: `(?im)^[ \t]*batch_name[ \t]*=[ \t]*(\S+)`,
			States: map[string]StateInfo{
				"1": {Pending, "idle"}, "5": {Pending, "held"}, "7": {Pending, "suspended"},
				"2": {Running, ""}, "6": {Running, "transferring output"},
				"3": {Failed, "removed"}, "4": {Done, ""},
			},
			Template: "htcondor", Ext: ".sub", BodyFile: true, IndexVar: "1",
			Directives: []string{"batch_name = {name}", "request_cpus = {cores}", "request_memory = {memory}",
				"periodic_remove = (JobStatus == 2) && (time() - EnteredCurrentStatus > {walltime})",
				"output = {output}.$(Process)", "error = {output}.$(Process)", "log = {output}.events"},
			MemoryUnit: "mb", WalltimeForm: "s",
			List: []string{"condor_q", "-af:t", "ClusterId", "JobBatchName", "JobStatus"}, ListFields: []string{"id", "name", "state"},
			StateWords: map[string]string{"1": "Idle", "2": "Running", "3": "Removed", "4": "Completed", "5": "Held",
				"6": "Transferring Output", "7": "Suspended"},
		},
		{
			Name: "winhpc", Title: "Windows HPC", Class: "WindowsHPC", Aliases: []string{"WindowsHPCEngineSetLauncher", "hpc", "windowshpc"},
			Submit: []string{"job", "submit", "/jobfile:{file}"}, Cancel: []string{"job", "cancel"}, SchedulerArg: "/scheduler:",
			Status:      []string{"job", "view"},
			JobIDRegexp: `ID: (\d+)`, JobIDGroup: 1, Parse: parseWinHPC, Gone: `(?i)not found|does not exist`,
			States: map[string]StateInfo{
				"Configuring": {Pending, "configuring"}, "Submitted": {Pending, ""}, "Validating": {Pending, ""}, "Queued": {Pending, ""},
				"Running": {Running, ""}, "Canceling": {Running, "being cancelled"}, "Finishing": {Running, ""},
				"Finished": {Done, ""}, "Failed": {Failed, "non-zero exit"}, "Canceled": {Failed, "cancelled"},
			},
			FindByName: []string{"job", "list", "/jobname:{name}", "/format:list"}, FindIDRegexp: `(?m)^Id\s*:\s*(\d+)`,
			NameDirective: `<Job\b[^>]*\sName="([^"]+)"`,
			Template:      "winhpc", Ext: ".xml", BodyFile: true, IndexVar: "1",
			Directives: []string{`Project="{account}"`, `NodeGroups="{queue}"`, `MinMemory="{memory}"`, `MinCores="{cores}"`, `RuntimeSeconds="{walltime}"`},
			MemoryUnit: "mb", WalltimeForm: "s",
		},
	}
}

// torque is PBS as Torque: -t arrays, nodes= resources.
func torque() Scheduler {
	s := pbs("pbs", "PBS (Torque)", "-t 1-{elements}", "PBS_ARRAYID", []string{"-l nodes=1:ppn={cores}", "-l mem={memory}"})
	s.Class, s.Aliases = "PBS", []string{"torque"}
	return s
}

// pbsPro is PBS Pro (OpenPBS): -J arrays, select= resources; its settings fall back to PBS's.
func pbsPro() Scheduler {
	s := pbs("pbspro", "PBS Pro", "-J 1-{elements}", "PBS_ARRAY_INDEX", []string{"-l select=1[[:ncpus={cores}]][[:mem={memory}]]"})
	s.Class, s.Aliases = "PBSPro", []string{"pbs-pro", "openpbs"}
	s.ParentEngineClasses = []string{"PBSEngineSetLauncher", "PBSLauncher"}
	s.ParentControllerClasses = []string{"PBSControllerLauncher", "PBSLauncher"}
	return s
}

// pbs is what the PBS dialects share.
func pbs(name, title, array, index string, resources []string) Scheduler {
	dirs := append([]string{"-N {name}"}, resources...)
	dirs = append(dirs, "-l walltime={walltime}", "-q {queue}", "-A {account}", "-j oe", "-o {output}", "-V")
	return Scheduler{
		Name: name, Title: title,
		Submit: []string{"qsub", "{file}"}, Cancel: []string{"qdel"}, Signal: []string{"qsig", "-s", "{sig}"},
		Status:      []string{"qstat", "-f"},
		JobIDRegexp: `^(\d+(?:\[\])?(?:\.\S*)?)`, JobIDGroup: 1, Parse: parsePBS,
		Gone: `Unknown Job Id|Job has finished`,
		States: map[string]StateInfo{
			"Q": {Pending, ""}, "H": {Pending, "held"}, "W": {Pending, "waiting for its start time"}, "T": {Pending, "being moved"},
			"S": {Running, "suspended"}, "R": {Running, ""}, "B": {Running, ""}, "E": {Running, "exiting"},
			"C": {Done, ""}, "F": {Done, ""}, "X": {Done, ""},
		},
		Template: name, Ext: ".sh", IndexVar: index,
		Prefix: "#PBS", Directives: dirs, ArrayDirective: array,
		NameArgs: []string{"-N", "{name}"}, NameDirective: `(?m)^#PBS[ \t]+-N[ \t]+([^\s#]+)`, MemoryUnit: "pbs", WalltimeForm: "hms",
		FindByName: []string{"qselect", "-N", "{name}"}, List: []string{"qstat", "-f"},
	}
}
