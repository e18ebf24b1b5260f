package launchers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"time"

	"ipcluster/internal/wait"
)

// batchEntries are the batch-system launchers (Slurm, PBS, SGE, LSF, HTCondor, Windows HPC):
// one launcher type, one row each.
func batchEntries() []Entry {
	var out []Entry
	for _, row := range Schedulers() {
		out = append(out, batchEntry(row))
	}
	return out
}

func batchEntry(row Scheduler) Entry {
	p := row.Class
	engines := append([]string{p + "EngineSetLauncher", p + "Launcher"}, row.ParentEngineClasses...)
	controller := append([]string{p + "ControllerLauncher", p + "Launcher"}, row.ParentControllerClasses...)
	// The rest of ipyparallel's method resolution order, e.g. SlurmEngineSetLauncher(SlurmLauncher,
	// BatchEngineSetLauncher) reads BatchEngineSetLauncher before BatchSystemLauncher.
	engines = append(engines, "BatchEngineSetLauncher", "BatchSystemLauncher", "EngineLauncher", "BaseLauncher")
	controller = append(controller, "BatchControllerLauncher", "BatchSystemLauncher", "ControllerLauncher", "BaseLauncher")
	aliases := append([]string{p + "EngineSetLauncher", p + "ControllerLauncher", p + "Launcher"}, row.Aliases...)
	return Entry{
		Name: row.Name, Aliases: aliases, EngineClasses: engines, ControllerClasses: controller,
		OptionsClass: p + "Launcher",
		Options:      func() any { return &BatchOptions{} },
		New: func(s Settings) (Launcher, error) {
			return &batch{row: row, settings: s, engineClasses: engines[:len(engines)-2], controllerClasses: controller[:len(controller)-2]}, nil
		},
	}
}

// NewBatch is the batch launcher for a scheduler row, with fixed options (for tests and
// embedding).
func NewBatch(row Scheduler, opts BatchOptions) Launcher {
	return &batch{row: row, fixed: &opts}
}

// batch submits, watches, signals and cancels jobs of one scheduler.
type batch struct {
	row                              Scheduler
	settings                         Settings
	fixed                            *BatchOptions
	engineClasses, controllerClasses []string
	runners                          Runners // this machine, or the login host (ssh_host)
}

// batchJob is what a handle records (Handle.Data), so that any process can watch and stop the
// job with the commands it was submitted with.
type batchJob struct {
	Scheduler  string   `json:"scheduler"`
	JobName    string   `json:"job_name"`
	Cancel     []string `json:"cancel_command"`
	Signal     []string `json:"signal_command,omitempty"`
	Status     []string `json:"status_command"`
	Script     string   `json:"script"`
	OutputFile string   `json:"output_file"`
	ExitFile   string   `json:"exit_file"`
	Indexes    []string `json:"indexes"` // exit files are ExitFile.<index>
	Scheduler2 string   `json:"winhpc_scheduler,omitempty"`
	Login      *Login   `json:"login,omitempty"` // where the commands run and the files are (nil: here)
}

func (b *batch) Name() string { return b.row.Name }

// Close closes the connection to the login host, if one was opened.
func (b *batch) Close() error {
	b.runners.Close()
	return nil
}

func (b *batch) options(role Role) (BatchOptions, error) {
	if b.fixed != nil {
		return *b.fixed, nil
	}
	var o BatchOptions
	if b.settings == nil {
		return o, nil
	}
	classes := b.engineClasses
	if role == Controller {
		classes = b.controllerClasses
	}
	if err := b.settings.Decode(classes, &o); err != nil {
		return o, err
	}
	return o, nil
}

// Render returns what Start would write and submit, without submitting (--dry-run).
func (b *batch) Render(ctx context.Context, req Request) (*Script, error) {
	o, err := b.options(req.Role)
	if err != nil {
		return nil, err
	}
	return b.render(req, o)
}

func (b *batch) Start(ctx context.Context, req Request) (*Handle, error) {
	o, err := b.options(req.Role)
	if err != nil {
		return nil, err
	}
	s, err := b.render(req, o)
	if err != nil {
		return nil, err
	}
	job := b.job(req, o, s)
	r := b.runners.For(job.Login)
	for _, f := range s.Files {
		if err := r.WriteFile(ctx, f.Path, []byte(f.Text), 0o700); err != nil {
			return nil, fmt.Errorf("%s: write job script%s: %w", b.row.Title, on(r), err)
		}
	}
	if err := b.stage(ctx, r, s); err != nil {
		return nil, err
	}
	for _, idx := range job.Indexes { // left over from an earlier run of the same name
		r.Remove(ctx, job.ExitFile+"."+idx)
	}
	r.Remove(ctx, job.ExitFile+".stopped")
	var stdin []byte
	if s.Stdin {
		stdin = []byte(s.Files[0].Text)
	}
	out, err := r.Run(ctx, s.Submit, s.SubmitEnv, stdin)
	if err != nil {
		b.cancelByName(r, s, o)
		return nil, fmt.Errorf("%s submit: %w", b.row.Title, err)
	}
	re, group := b.row.jobIDRegexp(), b.row.JobIDGroup
	if o.JobIDRegexp != "" {
		if re, err = compileRegexp(o.JobIDRegexp); err != nil {
			return nil, err
		}
		group = o.JobIDGroup
	}
	m := re.FindStringSubmatch(out)
	if m == nil || group >= len(m) || m[group] == "" {
		b.cancelByName(r, s, o)
		return nil, fmt.Errorf("%s submit: no job id (%s) in the output of `%s`%s:\n%s", b.row.Title, re, strings.Join(s.Submit, " "), on(r), indent(out))
	}
	data, _ := json.Marshal(job)
	return &Handle{Launcher: b.row.Name, Role: req.Role, N: req.N, JobIDs: []string{m[group]}, Data: data}, nil
}

func (b *batch) job(req Request, o BatchOptions, s *Script) batchJob {
	pick := func(user, def []string) []string {
		if len(user) > 0 {
			return user
		}
		return def
	}
	name := s.JobName
	base := strings.TrimSuffix(s.Files[0].Path, b.row.Ext)
	job := batchJob{Scheduler: b.row.Name, JobName: name, Cancel: pick(o.DeleteCommand, b.row.Cancel),
		Signal: pick(o.SignalCommand, b.row.Signal), Status: pick(o.StatusCommand, b.row.Status), Script: s.Files[0].Path,
		OutputFile: o.OutputFile, ExitFile: base + ".exit", Scheduler2: o.Scheduler, Login: o.Login()}
	if job.OutputFile == "" {
		job.OutputFile = base + ".log"
	}
	n := 1
	if req.Role == Engines && !b.row.Tasks {
		n = req.N
		if o.EnginesPerNode > 1 {
			n = (n + o.EnginesPerNode - 1) / o.EnginesPerNode
		}
	}
	switch {
	case b.row.BodyFile: // HTCondor's $(Process), Windows HPC task numbers: 0..n-1
		for i := 0; i < n; i++ {
			job.Indexes = append(job.Indexes, fmt.Sprint(i))
		}
	case n > 1 && b.row.IndexVar != "":
		for i := 1; i <= n; i++ {
			job.Indexes = append(job.Indexes, fmt.Sprint(i))
		}
	default:
		job.Indexes = []string{"0"}
	}
	return job
}

// cancelByName cancels what a failed submission may have queued all the same, by its name.
func (b *batch) cancelByName(r Runner, s *Script, o BatchOptions) {
	if len(o.DeleteCommand) > 0 || s.NamedByTemplate { // a user's name may be other jobs' too
		return
	}
	name := s.JobName
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	named := func(cmd []string) []string {
		argv := make([]string, len(cmd))
		for i, a := range cmd {
			argv[i] = strings.ReplaceAll(a, "{name}", name)
		}
		return argv
	}
	switch {
	case len(b.row.CancelByName) > 0:
		r.Run(ctx, named(b.row.CancelByName), nil, nil)
	case len(b.row.FindByName) > 0:
		out, err := r.Run(ctx, named(b.row.FindByName), nil, nil)
		if err != nil {
			return
		}
		ids := strings.Fields(out)
		if b.row.FindIDRegexp != "" {
			ids = nil
			for _, m := range regexp.MustCompile(b.row.FindIDRegexp).FindAllStringSubmatch(out, -1) {
				ids = append(ids, m[1])
			}
		}
		for _, id := range ids { // one at a time: not every cancel command takes several ids
			r.Run(ctx, append(append([]string(nil), b.row.Cancel...), id), nil, nil)
		}
	}
}

func decodeJob(h *Handle) (batchJob, error) {
	var job batchJob
	if err := json.Unmarshal(h.Data, &job); err != nil {
		return job, fmt.Errorf("%s job %v: unreadable handle data: %w", h.Launcher, h.JobIDs, err)
	}
	return job, nil
}

func (b *batch) withScheduler(argv []string, job batchJob) []string {
	if b.row.SchedulerArg != "" && job.Scheduler2 != "" {
		return append(argv, b.row.SchedulerArg+job.Scheduler2)
	}
	return argv
}

// Stop cancels the job; a job that already ended is not an error.
func (b *batch) Stop(ctx context.Context, h *Handle) error {
	job, err := decodeJob(h)
	if err != nil {
		return err
	}
	r := b.runners.For(job.Login)
	r.WriteFile(ctx, job.ExitFile+".stopped", nil, 0o644) // tells Status that the end was asked for
	if st, err := b.Status(ctx, h); err == nil && (st.Phase == Done || st.Phase == Failed) {
		return nil
	}
	argv := b.withScheduler(append(append([]string(nil), job.Cancel...), h.JobIDs...), job)
	if out, err := r.Run(ctx, argv, nil, nil); err != nil {
		if b.row.Gone != "" && matches(b.row.Gone, out+err.Error()) {
			return nil
		}
		if st, serr := b.Status(ctx, h); serr == nil && st.Phase != Running && st.Phase != Pending {
			return nil // it ended meanwhile
		}
		return fmt.Errorf("%s cancel: %w", b.row.Title, err)
	}
	return b.waitEnded(ctx, h)
}

// waitEnded polls until the scheduler no longer reports the job running or pending (Slurm
// shows a cancelled job COMPLETING for a moment), so that Stop leaves nothing in the queue.
func (b *batch) waitEnded(ctx context.Context, h *Handle) error {
	deadline := time.Now().Add(30 * time.Second)
	return wait.Until(ctx, 200*time.Millisecond, func() (bool, error) {
		st, err := b.Status(ctx, h)
		if err != nil || st.Phase == Done || st.Phase == Failed {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("%s job %s still %s 30s after it was cancelled", b.row.Title, strings.Join(h.JobIDs, ","), st.Phase)
		}
		return false, nil
	})
}

// Signal sends sig to the job's processes, where the scheduler can (errors.ErrUnsupported
// where it cannot: Grid Engine, HTCondor, Windows HPC).
func (b *batch) Signal(ctx context.Context, h *Handle, sig syscall.Signal) error {
	job, err := decodeJob(h)
	if err != nil {
		return err
	}
	if st, err := b.Status(ctx, h); err == nil && (st.Phase == Done || st.Phase == Failed) {
		return nil
	}
	if len(job.Signal) == 0 {
		return fmt.Errorf("%s: sending signals to jobs: %w", b.row.Title, errors.ErrUnsupported)
	}
	name := strings.TrimPrefix(sigName(sig), "SIG")
	var argv []string
	for _, a := range job.Signal {
		argv = append(argv, strings.ReplaceAll(a, "{sig}", name))
	}
	argv = append(argv, h.JobIDs...)
	if _, err := b.runners.For(job.Login).Run(ctx, argv, nil, nil); err != nil {
		return fmt.Errorf("%s signal: %w", b.row.Title, err)
	}
	return nil
}

func sigName(sig syscall.Signal) string {
	names := map[syscall.Signal]string{syscall.SIGHUP: "HUP", syscall.SIGINT: "INT", syscall.SIGQUIT: "QUIT", syscall.SIGKILL: "KILL",
		syscall.SIGUSR1: "USR1", syscall.SIGUSR2: "USR2", syscall.SIGTERM: "TERM", syscall.SIGCONT: "CONT", syscall.SIGSTOP: "STOP"}
	if n, ok := names[sig]; ok {
		return n
	}
	return fmt.Sprint(int(sig))
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "    (no output)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// Remote: batch jobs run on whatever node the scheduler picks.
func (b *batch) Remote() bool { return true }
