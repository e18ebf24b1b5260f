package cluster

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"ipcluster/launchers"
	"ipcluster/runtime/client"
)

// Status is a cluster's live state, read from its launchers and its controller.
type Status struct {
	Profile    string               `json:"profile"`
	ProfileDir string               `json:"profile_dir"`
	ClusterID  string               `json:"cluster_id"`
	File       string               `json:"cluster_file"`
	Controller string               `json:"controller"` // running, stopped, ...; "external ..." when ipcluster did not start it
	Registered *int                 `json:"engines_registered"`
	Requested  int                  `json:"engines_requested"`
	Launcher   string               `json:"launcher"`
	PIDs       []int                `json:"pids"`
	Hosts      []string             `json:"hosts"` // the host of each pid ("" on this machine)
	JobIDs     []string             `json:"job_ids"`
	Jobs       []launchers.JobState `json:"jobs"`         // batch jobs in the scheduler's words
	Sets       map[string]string    `json:"engine_sets"`  // set id -> launcher state
	Kinds      map[string]string    `json:"engine_kinds"` // set id -> go or python, when known
	// States are the engine sets' launcher states (the dashboard shows reasons and causes).
	States map[string]launchers.State `json:"-"`
}

// Inspect reads the live state of the cluster a file describes. It asks the controller for
// the registered engines only when the controller runs (bounded by ctx).
func Inspect(ctx context.Context, f *File, reg *launchers.Registry) Status {
	st := Status{ProfileDir: f.Cluster.ProfileDir, ClusterID: f.Cluster.ClusterID, File: f.Path(),
		Launcher: f.Engines.Class, Controller: "none", Sets: map[string]string{}, PIDs: []int{}, JobIDs: []string{},
		Jobs: []launchers.JobState{}, Kinds: map[string]string{}, States: map[string]launchers.State{}}
	ls := newLauncherSet(reg, nil)
	defer ls.close()
	for id, k := range f.Engines.Kinds {
		st.Kinds[id] = k
	}
	if f.Controller != nil && f.Controller.State != nil {
		h := f.Controller.State
		st.PIDs = append(st.PIDs, pids(h)...)
		st.Hosts = append(st.Hosts, hosts(h)...)
		st.JobIDs = append(st.JobIDs, h.JobIDs...)
		if l, err := ls.get(h.Launcher); err == nil {
			if s, err := l.Status(ctx, h); err == nil {
				st.Controller = describe(s)
			}
			st.Jobs = append(st.Jobs, jobStates(ctx, l, h)...)
		}
	}
	ids := make([]string, 0, len(f.Engines.Sets))
	for id := range f.Engines.Sets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		h := f.Engines.Sets[id]
		st.Requested += h.N
		st.PIDs = append(st.PIDs, pids(h)...)
		st.Hosts = append(st.Hosts, hosts(h)...)
		st.JobIDs = append(st.JobIDs, h.JobIDs...)
		if l, err := ls.get(h.Launcher); err == nil {
			if s, err := l.Status(ctx, h); err == nil {
				st.Sets[id] = describe(s)
				st.States[id] = s
			}
			st.Jobs = append(st.Jobs, jobStates(ctx, l, h)...)
		}
	}
	if f.Cluster.ExternalController {
		st.Controller = "external, unreachable"
	}
	if st.Controller == string(launchers.Running) || f.Cluster.ExternalController {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if c, err := client.Connect(cctx, client.Options{ProfileDir: f.Cluster.ProfileDir, ClusterID: f.Cluster.ClusterID, ConnectTimeout: 3 * time.Second}); err == nil {
			n := len(c.IDs())
			st.Registered = &n
			if f.Cluster.ExternalController {
				st.Controller = "external, running" // not started (and never stopped) by ipcluster
			}
			c.Close()
		}
	}
	return st
}

// jobStates are a batch handle's jobs in the scheduler's words ("?" when it cannot say).
func jobStates(ctx context.Context, l launchers.Launcher, h *launchers.Handle) []launchers.JobState {
	js, ok := l.(launchers.JobStater)
	if !ok || len(h.JobIDs) == 0 {
		return nil
	}
	states, err := js.JobStates(ctx, h)
	if err != nil {
		states = nil
		for _, id := range h.JobIDs {
			states = append(states, launchers.JobState{ID: id, State: "?"})
		}
	}
	return states
}

func hosts(h *launchers.Handle) []string {
	out := []string{}
	for _, p := range h.Processes {
		out = append(out, p.Host)
	}
	return out
}

// PIDList renders the pids, as pid@host for processes on other hosts.
func (s Status) PIDList() string {
	out := make([]string, len(s.PIDs))
	for i, pid := range s.PIDs {
		out[i] = strconv.Itoa(pid)
		if i < len(s.Hosts) && s.Hosts[i] != "" {
			out[i] += "@" + s.Hosts[i]
		}
	}
	return "[" + strings.Join(out, " ") + "]"
}

func pids(h *launchers.Handle) []int {
	var out []int
	for _, p := range h.Processes {
		out = append(out, p.PID)
	}
	return out
}
