package cluster

import (
	"context"
	"sort"
	"time"

	"ipcluster/launchers"
	"ipcluster/runtime/client"
)

// Status is a cluster's live state, read from its launchers and its controller.
type Status struct {
	Profile    string            `json:"profile"`
	ProfileDir string            `json:"profile_dir"`
	ClusterID  string            `json:"cluster_id"`
	File       string            `json:"cluster_file"`
	Controller string            `json:"controller"` // running, stopped, ...
	Registered *int              `json:"engines_registered"`
	Requested  int               `json:"engines_requested"`
	Launcher   string            `json:"launcher"`
	PIDs       []int             `json:"pids"`
	JobIDs     []string          `json:"job_ids"`
	Sets       map[string]string `json:"engine_sets"` // set id -> launcher state
}

// Inspect reads the live state of the cluster a file describes. It asks the controller for
// the registered engines only when the controller runs (bounded by ctx).
func Inspect(ctx context.Context, f *File, reg *launchers.Registry) Status {
	st := Status{ProfileDir: f.Cluster.ProfileDir, ClusterID: f.Cluster.ClusterID, File: f.Path(),
		Launcher: f.Engines.Class, Controller: "none", Sets: map[string]string{}, PIDs: []int{}, JobIDs: []string{}}
	if f.Controller != nil && f.Controller.State != nil {
		h := f.Controller.State
		st.PIDs = append(st.PIDs, pids(h)...)
		st.JobIDs = append(st.JobIDs, h.JobIDs...)
		if l, err := reg.New(h.Launcher, nil); err == nil {
			if s, err := l.Status(ctx, h); err == nil {
				st.Controller = describe(s)
			}
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
		st.JobIDs = append(st.JobIDs, h.JobIDs...)
		if l, err := reg.New(h.Launcher, nil); err == nil {
			if s, err := l.Status(ctx, h); err == nil {
				st.Sets[id] = describe(s)
			}
		}
	}
	if st.Controller == string(launchers.Running) {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if c, err := client.Connect(cctx, client.Options{ProfileDir: f.Cluster.ProfileDir, ClusterID: f.Cluster.ClusterID, ConnectTimeout: 3 * time.Second}); err == nil {
			n := len(c.IDs())
			st.Registered = &n
			c.Close()
		}
	}
	return st
}

func pids(h *launchers.Handle) []int {
	var out []int
	for _, p := range h.Processes {
		out = append(out, p.PID)
	}
	return out
}
