package cluster

import (
	"context"
	"fmt"

	"ipcluster/launchers"
)

// Planned is what `ipcluster start --dry-run` shows for the controller or the engines: the
// files a batch launcher would write and the exact submit command (argv), or, for launchers
// that run processes, the command each process would run.
type Planned struct {
	Role     launchers.Role
	Launcher string
	Script   *launchers.Script // nil for process launchers
	Command  []string
	N        int
}

// DryRun renders what Start would submit or run, without writing, submitting or starting
// anything.
func DryRun(ctx context.Context, opts Options) ([]Planned, error) {
	opts.setDefaults()
	c := &Cluster{opts: opts}
	var out []Planned
	for _, role := range []launchers.Role{launchers.Controller, launchers.Engines} {
		name, n := opts.ControllerLauncher, 1
		if role == launchers.Engines {
			name, n = opts.EngineLauncher, opts.N
		}
		l, err := opts.Launchers.New(name, opts.Settings)
		if err != nil {
			return nil, err
		}
		cmd, setID := c.controllerCommand(l), ""
		if role == launchers.Engines {
			cmd, setID = c.engineCommand(), "dryrun"
		}
		p := Planned{Role: role, Launcher: l.Name(), Command: cmd, N: n}
		if r, ok := l.(launchers.Renderer); ok {
			if p.Script, err = r.Render(ctx, c.request(role, n, cmd, setID)); err != nil {
				return nil, fmt.Errorf("render the %s script: %w", role, err)
			}
		}
		out = append(out, p)
	}
	return out, nil
}
