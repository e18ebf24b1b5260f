package dashboard

import (
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"ipcluster/cluster"
	"ipcluster/launchers"
)

// setInfo is what the cluster file says about one engine set, for placing engines in it.
type setInfo struct {
	id     string
	jobs   []string
	host   string // the one host all its engines run on, "" when several or unknown
	single bool   // the cluster's only engine set
}

// viewLocked assembles the View. Call with mu held.
func (c *Collector) viewLocked(now time.Time) View {
	v := View{
		Time: now, Profile: profileName(c.cfg.ProfileDir), ClusterID: c.cfg.ClusterID,
		Controller: c.ctl, Queue: c.queue, History: c.hist.copy(),
		Failures: slices.Clone(c.failures), Maps: slices.Clone(c.maps), ReadOnly: c.cfg.ReadOnly,
		Actions: c.cfg.Actions.names(c.cfg.ReadOnly), Heartbeat: "probe",
		Config: map[string]int64{"refresh_ms": c.cfg.Refresh.Milliseconds(), "lost_after_ms": c.cfg.LostAfter.Milliseconds(),
			"window_s": int64(c.cfg.Window.Seconds())},
	}
	if c.status != nil {
		st := *c.status
		v.Cluster = &st
	}
	for _, e := range c.errs {
		v.Errors = append(v.Errors, e)
	}
	sort.Strings(v.Errors)
	engines := c.tracker.engines(now)
	byUUID := c.tracker.idByUUID()
	for i := range v.Failures {
		if id, ok := byUUID[v.Failures[i].EngineUUID]; ok && v.Failures[i].Engine == nil {
			v.Failures[i].Engine = ptr(id)
		}
	}
	for i := range engines {
		e := &engines[i]
		if e.Failed == nil && c.failedBy != nil && e.UUID != "" {
			e.Failed = ptr(c.failedBy[e.UUID])
		}
		if t, ok := c.current[e.UUID]; ok && e.CurrentTask == nil && e.State != Lost && e.State != Stopped && e.Running > 0 {
			e.CurrentTask = ptr(t)
		}
	}
	v.Jobs = slices.Clone(c.jobs)
	for i := range v.Jobs {
		v.Jobs[i].Engines = []int{}
	}
	placeEngines(engines, v.Jobs, c.sets)
	v.Engines = engines
	// The controller forgets an engine's count when it unregisters; the rows remember it.
	v.Queue.Completed = 0
	for _, e := range engines {
		v.Queue.Completed += e.Completed
	}
	if v.Jobs == nil {
		v.Jobs = []Job{}
	}
	if v.Failures == nil {
		v.Failures = []Failure{}
	}
	if v.Maps == nil {
		v.Maps = []MapRun{}
	}
	if v.History == nil {
		v.History = []Sample{}
	}
	return v
}

// placeEngines names each engine's set, job and host where the cluster file makes it
// certain: a cluster with one engine set holds every engine. (With several sets the engine-pool
// supervisor records which engine is in which.)
func placeEngines(engines []Engine, jobs []Job, sets []setInfo) {
	if len(sets) != 1 || !sets[0].single {
		return
	}
	s := sets[0]
	for i := range engines {
		e := &engines[i]
		e.Set = s.id
		if len(s.jobs) == 1 {
			e.Job = s.jobs[0]
		}
		if e.Host == nil && s.host != "" {
			e.Host = ptr(s.host)
		}
		if e.State == Lost || e.State == Stopped {
			continue
		}
		for j := range jobs {
			if jobs[j].Set == s.id && (len(s.jobs) == 1 || jobs[j].ID == e.Job) {
				jobs[j].Engines = append(jobs[j].Engines, e.ID)
			}
		}
	}
}

// jobsOf lists the cluster's batch jobs with what the scheduler and the launcher say of them,
// and the engine sets.
func jobsOf(f *cluster.File, st cluster.Status) ([]Job, []setInfo) {
	words := map[string]string{}
	scheduler := map[string]launchers.JobState{}
	for _, j := range st.Jobs {
		words[j.ID] = j.State
		scheduler[j.ID] = j
	}
	var jobs []Job
	if f.Controller != nil && f.Controller.State != nil {
		for _, id := range f.Controller.State.JobIDs {
			phase, _, _ := strings.Cut(st.Controller, " ")
			jobs = append(jobs, Job{ID: id, Set: "controller", Role: string(launchers.Controller), State: word(words, id),
				Phase: phase, Hosts: hostsOf(f.Controller.State)})
		}
	}
	ids := slices.Sorted(maps.Keys(f.Engines.Sets))
	var sets []setInfo
	for _, id := range ids {
		h := f.Engines.Sets[id]
		state, known := st.States[id]
		info := setInfo{id: id, jobs: h.JobIDs, single: len(ids) == 1}
		if hs := state.Hosts; len(hs) == 1 && hs[0] != "(unknown)" {
			info.host = hs[0]
		} else if hs := hostsOf(h); len(hs) == 1 && len(h.JobIDs) == 0 {
			info.host = hs[0]
		}
		sets = append(sets, info)
		for _, jid := range h.JobIDs {
			j := Job{ID: jid, Set: id, Role: string(launchers.Engines), State: word(words, jid), Hosts: state.Hosts}
			if known {
				j.Phase = string(state.Phase)
				switch state.Phase {
				case launchers.Pending:
					j.Reason = state.Reason
				case launchers.Done, launchers.Failed:
					j.Cause = string(state.Cause)
					if j.Cause == "" {
						j.Cause = state.Reason
					}
				}
			}
			if j.Hosts == nil {
				j.Hosts = []string{}
			}
			if js := scheduler[jid]; js.Elapsed != "" {
				j.Elapsed = ptr(js.Elapsed)
			}
			if js := scheduler[jid]; js.TimeLeft != "" {
				j.TimeLeft = ptr(js.TimeLeft)
			}
			jobs = append(jobs, j)
		}
	}
	return jobs, sets
}

func word(words map[string]string, id string) string {
	if w, ok := words[id]; ok {
		return w
	}
	return "?"
}

// hostsOf lists the distinct hosts of a handle's processes ("" is this machine).
func hostsOf(h *launchers.Handle) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range h.Processes {
		host := p.Host
		if host == "" {
			host, _ = os.Hostname()
		}
		if !seen[host] {
			seen[host] = true
			out = append(out, host)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}
