package cluster

import (
	"context"
	"fmt"
	"time"

	"ipcluster/launchers"
)

// Planned is what `ipcluster start --dry-run` shows for the controller or the engines: the
// files a batch launcher would write and the exact submit command (argv), or, for launchers
// that run processes, the command lines they would run and where.
type Planned struct {
	Role     launchers.Role
	Launcher string
	Request  launchers.Request // what Start would give the launcher
	Script   *launchers.Script // batch launchers
	Runs     []launchers.Run   // process launchers (local, MPI, SSH)
}

// DryRun renders what Start would submit or run, without writing, submitting or starting
// anything. It builds the same requests as Start, and the launchers render them with the
// functions their Start uses.
func DryRun(ctx context.Context, opts Options) ([]Planned, error) {
	opts.setDefaults()
	c := &Cluster{opts: opts}
	var out []Planned
	roles := []launchers.Role{launchers.Controller, launchers.Engines}
	if opts.N == 0 { // the controller alone, as Start
		roles = roles[:1]
	}
	for _, role := range roles {
		name := opts.ControllerLauncher
		if role == launchers.Engines {
			name = opts.EngineLauncher
		}
		l, err := opts.Launchers.New(name, opts.Settings)
		if err != nil {
			return nil, err
		}
		req := c.request(role, 1, c.controllerCommand(l), "")
		if role == launchers.Engines {
			req = c.engineRequest(l, opts.N, newSetID())
		}
		p := Planned{Role: role, Launcher: l.Name(), Request: req}
		switch l := l.(type) {
		case launchers.Renderer:
			if p.Script, err = l.Render(ctx, req); err != nil {
				return nil, fmt.Errorf("render the %s script: %w", role, err)
			}
		case launchers.Planner:
			if p.Runs, err = l.Plan(ctx, req); err != nil {
				return nil, fmt.Errorf("plan the %s: %w", role, err)
			}
		default:
			return nil, fmt.Errorf("the %s launcher cannot say what it would run (--dry-run)", l.Name())
		}
		out = append(out, p)
	}
	return out, nil
}

// engineRequest is the request for an engine set of n engines, as AddEngines and DryRun
// make it: when the user gave no n, a launcher that knows its size (an SSH engines dict)
// decides.
func (c *Cluster) engineRequest(l launchers.Launcher, n int, setID string) launchers.Request {
	if s, ok := l.(launchers.Sizer); ok && c.opts.SizeByLauncher && s.Size() > 0 {
		n = s.Size()
	}
	return c.request(launchers.Engines, n, c.engineCommand(), setID)
}

// newSetID names a new engine set: the time in milliseconds (part of job and log names).
func newSetID() string { return fmt.Sprintf("%d", time.Now().UnixNano()/1e6) }
