package dashboard

import (
	"context"
	"errors"
	"fmt"
)

// Actions are what the page may do to the cluster. Each is the library call the matching CLI
// command makes (the command that serves the dashboard fills them in); one left nil is not
// offered.
type Actions struct {
	StopCluster    func(ctx context.Context) error              // ipcluster stop
	StopEngines    func(ctx context.Context, ids []int) error   // ipcluster engines stop ID...
	RestartEngines func(ctx context.Context, ids []int) error   // ipcluster engines restart ID...
	Scale          func(ctx context.Context, engines int) error // ipcluster scale N
}

// Action names, as the page posts them to /api/actions/<name>.
const (
	ActionStopCluster    = "stop-cluster"
	ActionStopEngines    = "stop-engines"
	ActionRestartEngines = "restart-engines"
	ActionScale          = "scale"
)

// names lists the actions offered.
func (a Actions) names(readOnly bool) []string {
	out := []string{}
	if readOnly {
		return out
	}
	for _, x := range []struct {
		name string
		set  bool
	}{
		{ActionStopCluster, a.StopCluster != nil}, {ActionStopEngines, a.StopEngines != nil},
		{ActionRestartEngines, a.RestartEngines != nil}, {ActionScale, a.Scale != nil},
	} {
		if x.set {
			out = append(out, x.name)
		}
	}
	return out
}

// ActionRequest is the body the page posts.
type ActionRequest struct {
	Engines []int `json:"engines,omitempty"` // stop-engines, restart-engines
	N       *int  `json:"n,omitempty"`       // scale
}

// errNotOffered: the action does not exist here (yet) or the dashboard is read-only.
var errNotOffered = errors.New("action not offered")

// errBadRequest: the action's arguments are missing or wrong.
var errBadRequest = errors.New("bad request")

// do runs one action and records what it means for the engines' states.
func (c *Collector) do(ctx context.Context, name string, req ActionRequest) error {
	a := c.cfg.Actions
	if c.cfg.ReadOnly {
		return fmt.Errorf("%w: this dashboard is read-only (--read-only)", errNotOffered)
	}
	needEngines := func() error {
		if len(req.Engines) == 0 {
			return fmt.Errorf("%w: %s: name the engines (\"engines\": [id, ...])", errBadRequest, name)
		}
		return nil
	}
	switch {
	case name == ActionStopCluster && a.StopCluster != nil:
		return a.StopCluster(ctx)
	case name == ActionStopEngines && a.StopEngines != nil:
		if err := needEngines(); err != nil {
			return err
		}
		c.mu.Lock()
		c.tracker.markStopped(req.Engines, "stopped from the dashboard")
		c.mu.Unlock()
		err := a.StopEngines(ctx, req.Engines)
		if err != nil {
			c.mu.Lock()
			c.tracker.unmarkStopped(req.Engines)
			c.mu.Unlock()
		}
		return err
	case name == ActionRestartEngines && a.RestartEngines != nil:
		if err := needEngines(); err != nil {
			return err
		}
		return a.RestartEngines(ctx, req.Engines)
	case name == ActionScale && a.Scale != nil:
		if req.N == nil || *req.N < 0 {
			return fmt.Errorf("%w: scale: give the number of engines (\"n\": N, 0 or more)", errBadRequest)
		}
		return a.Scale(ctx, *req.N)
	}
	return fmt.Errorf("%w: %q (offered: %v)", errNotOffered, name, a.names(false))
}
