// Package launchers starts, watches, signals and stops the processes and jobs of a cluster:
// its controller and its engine sets. Every launcher implements the same small interface;
// what it started is described by a Handle that serialises into the cluster file, so that
// another process (`ipcluster stop` in another shell) can watch and stop it.
package launchers

import (
	"context"
	"encoding/json"
	"errors"
	"syscall"
)

// Role says what a launcher starts.
type Role string

// Roles.
const (
	Controller Role = "controller"
	Engines    Role = "engines"
)

// Request is what to start.
type Request struct {
	Role       Role
	N          int               // number of engines (1 for a controller)
	Command    []string          // program and arguments, e.g. ipengine --profile-dir ...
	Env        map[string]string // added to the inherited environment
	WorkDir    string
	ProfileDir string
	ClusterID  string
	SetID      string // engine set id, part of log names
	LogDir     string // where output files go (the profile's log/)
}

// Phase is a coarse job state.
type Phase string

// Phases.
const (
	Pending Phase = "pending"
	Running Phase = "running"
	Done    Phase = "done"   // ended with exit code 0 or was stopped
	Failed  Phase = "failed" // ended otherwise; Reason says why
)

// State is what a launcher knows about a started job.
type State struct {
	Phase    Phase
	Reason   string   // pending reason, or the cause of a failure (with the log tail)
	Hosts    []string // where it runs
	ExitCode *int     // when ended and known
	Running  int      // processes (or array elements) still running
	Cause    Cause    // why it ended, when the scheduler or the process says (else "")
}

// Cause is why a job or process ended, in words common to every launcher, so that the
// supervisor and `ipcluster list` can tell a time limit from a crash whatever the scheduler.
type Cause string

// Causes. A scheduler's own words (Slurm's TIMEOUT, PBS's Exit_status -29, ...) are mapped
// to these in its row.
const (
	CauseWalltime    Cause = "walltime"     // killed at its time limit
	CauseOOM         Cause = "oom"          // killed for exceeding its memory
	CausePreempted   Cause = "preempted"    // preempted by the scheduler
	CauseNodeFailure Cause = "node_failure" // its node failed or was lost
	CauseCancelled   Cause = "cancelled"    // cancelled from outside (scancel, qdel, kill)
	CauseExit        Cause = "exit"         // the program exited on its own (ExitCode says how)
)

// Process is one started process.
type Process struct {
	PID       int    `json:"pid"`
	StartTime uint64 `json:"start_time,omitempty"` // from /proc, so a reused pid is not mistaken for ours
	Output    string `json:"output_file,omitempty"`
	Host      string `json:"host,omitempty"`
}

// Handle describes what a launcher started; it is stored in the cluster file.
type Handle struct {
	Launcher  string          `json:"launcher"`
	Role      Role            `json:"role"`
	N         int             `json:"n"`
	Processes []Process       `json:"processes,omitempty"`
	JobIDs    []string        `json:"job_ids,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"` // launcher-specific
}

// Launcher starts and manages one kind of job. Stop and Signal are idempotent: stopping
// something that already ended is not an error.
type Launcher interface {
	Name() string
	Start(ctx context.Context, req Request) (*Handle, error)
	Status(ctx context.Context, h *Handle) (State, error)
	Signal(ctx context.Context, h *Handle, sig syscall.Signal) error
	Stop(ctx context.Context, h *Handle) error
}

// ErrUnknownLauncher is returned for a name no launcher has.
var ErrUnknownLauncher = errors.New("unknown launcher")

// Remote is implemented by launchers whose jobs run on hosts not known when they start (batch
// schedulers): a controller started by one must listen on all interfaces.
type Remote interface {
	Remote() bool
}
