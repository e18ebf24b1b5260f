// Package dashboard is the live view of one cluster: it reads the cluster as `ipcluster list`
// does (the cluster file, the launchers' and the scheduler's state) and the controller as a
// client does (registered engines, queue status, task records), keeps a few minutes of
// throughput history, and serves all of it as one View: JSON at /api/cluster, a stream of
// updates at /api/events, an embedded page, and a terminal view (`ipcluster top`).
//
// Memory is bounded by what is live (engines, jobs, tasks in flight) and a fixed window of
// history, never by how many tasks a cluster has run.
package dashboard

import (
	"time"

	"ipcluster/cluster"
	"ipcluster/dashboard/mapstatus"
)

// Engine states in a View.
const (
	Idle     = "idle"     // registered, nothing assigned
	Busy     = "busy"     // registered, running or holding tasks
	Draining = "draining" // registered, takes no new tasks (the controller says so)
	Lost     = "lost"     // seen before, now gone or silent, and not stopped on purpose
	Stopped  = "stopped"  // stopped on purpose (by the user or the supervisor)
)

// View is everything the page, the JSON API and the terminal view show. Pointers are null in
// JSON when the controller or the launcher does not say (the page shows "?").
type View struct {
	Time       time.Time        `json:"time"`
	Profile    string           `json:"profile"`
	ClusterID  string           `json:"cluster_id"`
	Cluster    *cluster.Status  `json:"cluster"` // as `ipcluster list -o json` shows it; null without a cluster file
	Controller ControllerState  `json:"controller"`
	Engines    []Engine         `json:"engines"`
	Jobs       []Job            `json:"jobs"`
	Queue      Queue            `json:"queue"`
	History    []Sample         `json:"history"` // oldest first, one per refresh
	Failures   []Failure        `json:"failures"`
	Maps       []MapRun         `json:"maps"`
	ReadOnly   bool             `json:"read_only"`
	Actions    []string         `json:"actions"` // the actions this dashboard offers (none when read-only)
	Errors     []string         `json:"errors"`  // what could not be read this time, in words
	Heartbeat  string           `json:"heartbeat_source"`
	Config     map[string]int64 `json:"config"` // refresh and lost_after in milliseconds, history in seconds
}

// ControllerState is whether the dashboard reaches the controller.
type ControllerState struct {
	Connected bool   `json:"connected"`
	Error     string `json:"error,omitempty"`
}

// Engine is one engine row.
type Engine struct {
	ID           int      `json:"id"`
	UUID         string   `json:"uuid,omitempty"`
	Kind         *string  `json:"kind"` // go or python
	Host         *string  `json:"host"`
	PID          *int     `json:"pid"`
	State        string   `json:"state"`            // idle, busy, draining, lost, stopped
	Detail       string   `json:"detail,omitempty"` // why lost or stopped
	HeartbeatAge *float64 `json:"heartbeat_age"`    // seconds since it last answered
	Running      int      `json:"running"`
	Queued       int      `json:"queued"`
	Completed    int      `json:"completed"`
	Failed       *int     `json:"failed"`
	CurrentTask  *string  `json:"current_task"`
	Set          string   `json:"set,omitempty"` // the engine set (and so the job) it belongs to, when known
	Job          string   `json:"job,omitempty"`
}

// Job is one batch job of the cluster.
type Job struct {
	ID       string   `json:"id"`
	Set      string   `json:"set"`
	Role     string   `json:"role"`  // engines or controller
	State    string   `json:"state"` // the scheduler's word, as `ipcluster list` shows it
	Phase    string   `json:"phase"` // pending, running, done, failed
	Reason   string   `json:"reason,omitempty"`
	Cause    string   `json:"cause,omitempty"` // why it ended
	Hosts    []string `json:"hosts"`
	Elapsed  *string  `json:"elapsed"`   // in the scheduler's words
	TimeLeft *string  `json:"time_left"` // in the scheduler's words
	Engines  []int    `json:"engines"`
}

// Queue is the controller's load.
type Queue struct {
	Unassigned int `json:"unassigned"` // tasks not yet placed on an engine
	Assigned   int `json:"assigned"`   // placed on engines, not finished
	Completed  int `json:"completed"`  // finished by the engines shown (the last count of those gone)
}

// Sample is one point of the charts.
type Sample struct {
	Time     time.Time `json:"t"`
	Finished int       `json:"finished"` // tasks finished since the previous sample
	Rate     float64   `json:"rate"`     // tasks per second over that interval
	Depth    int       `json:"depth"`    // unassigned + assigned
	Busy     int       `json:"busy"`     // busy engines
}

// Failure is one recently failed task.
type Failure struct {
	MsgID      string    `json:"msg_id"`
	Engine     *int      `json:"engine"`
	EngineUUID string    `json:"engine_uuid,omitempty"`
	Completed  time.Time `json:"completed"`
	Error      string    `json:"error"`
	StderrTail string    `json:"stderr_tail"`
}

// MapRun is a running `ipcluster map`.
type MapRun struct {
	mapstatus.Status
	Rate       float64  `json:"rate"`        // tasks per second
	ETASeconds *float64 `json:"eta_seconds"` // null until there is a rate
}
