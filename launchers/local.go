package launchers

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"syscall"
)

// commandLines turns a request into the command lines to start, each with its count.
type commandLines func(req Request) []Run

// local runs a request as processes on this machine: N engines (Local), or one mpiexec
// that starts them (MPI). The two differ only in their command lines.
type local struct {
	name  string
	procs *processes
	lines commandLines
}

// NewLocal is the Local launcher: one process per engine.
func NewLocal() Launcher {
	return &local{name: "local", procs: newProcesses(), lines: func(req Request) []Run {
		n := req.N
		if req.Role == Controller {
			n = 1
		}
		return []Run{{Count: n, Argv: req.Command, Env: req.Env}}
	}}
}

// MPIOptions are ipyparallel's MPILauncher settings.
type MPIOptions struct {
	Cmd  []string `config:"mpi_cmd" help:"command that starts MPI programs"`
	Args []string `config:"mpi_args" help:"extra arguments to mpi_cmd, e.g. ['--hostfile', 'hosts']"`
}

// NewMPI is the MPI launcher: `mpiexec -n N [mpi_args] engine --mpi` (engines take their id
// from their MPI rank).
func NewMPI(opts MPIOptions) Launcher {
	if len(opts.Cmd) == 0 {
		opts.Cmd = []string{"mpiexec"}
	}
	return &local{name: "mpi", procs: newProcesses(), lines: func(req Request) []Run {
		n := req.N
		program := req.Command
		if req.Role == Controller {
			n = 1
		} else {
			program = append(append([]string(nil), program...), "--mpi")
		}
		argv := append(append(append([]string(nil), opts.Cmd...), "-n", strconv.Itoa(n)), opts.Args...)
		return []Run{{Count: 1, Argv: append(argv, program...), Env: req.Env}}
	}}
}

func (l *local) Name() string { return l.name }

func (l *local) Start(ctx context.Context, req Request) (*Handle, error) {
	h := &Handle{Launcher: l.name, Role: req.Role, N: req.N}
	if req.Role == Controller {
		h.N = 1
	}
	for _, run := range l.lines(req) {
		for range run.Count {
			out := filepath.Join(req.LogDir, logName(req, len(h.Processes)))
			p, err := l.procs.spawn(run.Argv, run.Env, req.WorkDir, out)
			if err != nil {
				l.procs.stop(ctx, h.Processes) // nothing half-started is left behind
				return nil, err
			}
			h.Processes = append(h.Processes, p)
		}
	}
	return h, nil
}

// Plan is what Start would run.
func (l *local) Plan(ctx context.Context, req Request) ([]Run, error) { return l.lines(req), nil }

func logName(req Request, i int) string {
	if req.Role == Controller {
		return fmt.Sprintf("ipcontroller-%s.log", req.ClusterID)
	}
	return fmt.Sprintf("ipengine-%s-%s-%d.log", req.ClusterID, req.SetID, i)
}

// Status is running while any process runs; once all ended it is done if they all exited
// 0 (or this process does not know their codes) and failed with the first bad exit code
// and the tail of its output otherwise.
func (l *local) Status(ctx context.Context, h *Handle) (State, error) {
	var st State
	for _, p := range h.Processes {
		running, code := l.procs.alive(p)
		if running {
			st.Running++
			continue
		}
		if code != nil && *code != 0 && st.ExitCode == nil {
			st.ExitCode = code
			st.Reason = fmt.Sprintf("process %d exited with status %d", p.PID, *code)
			if t := tail(p.Output, 20); t != "" {
				st.Reason += "; last lines of " + p.Output + ":\n" + t
			}
		}
	}
	switch {
	case st.Running > 0:
		st.Phase = Running
		st.Hosts = []string{"localhost"}
	case st.ExitCode != nil:
		st.Phase = Failed
	default:
		st.Phase = Done
	}
	return st, nil
}

func (l *local) Signal(ctx context.Context, h *Handle, sig syscall.Signal) error {
	for _, p := range h.Processes {
		if err := l.procs.signal(p, sig); err != nil {
			return err
		}
	}
	return nil
}

func (l *local) Stop(ctx context.Context, h *Handle) error {
	return l.procs.stop(ctx, h.Processes)
}
