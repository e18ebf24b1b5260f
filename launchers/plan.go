package launchers

import "context"

// Run is one command line a process launcher starts: Count processes of Argv, on Host.
// Start and Plan build their runs with the same function, so what `--dry-run` shows is what
// Start executes.
type Run struct {
	Host  string            // "" for this machine
	Count int               // processes started with this command line
	Argv  []string          // exactly as executed (argv[0] is looked up on PATH)
	Env   map[string]string // added to the inherited environment (local processes)
	Send  []FilePair        // (local, remote) files copied to Host before starting
	Fetch []FilePair        // (remote, local) files copied back once they exist
}

// Planner is implemented by launchers that run processes: the command lines Start would run
// for req, without running anything (`ipcluster start --dry-run`).
type Planner interface {
	Plan(ctx context.Context, req Request) ([]Run, error)
}
