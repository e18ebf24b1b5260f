package dashboard

import (
	"fmt"
	"slices"
	"time"
)

// maxGone bounds the engines kept once gone (lost or stopped), newest kept: a cluster that
// replaces engines for weeks must not grow the page without end.
const maxGone = 200

// tracker keeps every engine seen and derives its state. A registered engine is idle, busy or
// draining, unless it has not answered for lostAfter (then lost, although the controller,
// which waits for many missed heartbeats, still lists it). An engine that was registered and
// is no longer is lost, or stopped when that was on purpose.
type tracker struct {
	lostAfter time.Duration
	rows      map[int]*tracked
	stopped   map[int]string // engine id -> why it was stopped on purpose
}

type tracked struct {
	report     engineReport
	uuid       string
	kind       string
	registered bool
	seen       time.Time // first seen registered (this time)
	answered   time.Time // last sign of life: a probe's answer or the controller's heartbeat
	probing    bool
	probed     time.Time // when the last probe was sent
	goneAt     time.Time
}

func newTracker(lostAfter time.Duration) *tracker {
	return &tracker{lostAfter: lostAfter, rows: map[int]*tracked{}, stopped: map[int]string{}}
}

// update takes the controller's list of registered engines.
func (t *tracker) update(reports []engineReport, now time.Time) {
	present := make(map[int]bool, len(reports))
	for _, r := range reports {
		present[r.ID] = true
		row := t.rows[r.ID]
		if row == nil || !row.registered || (r.UUID != "" && row.uuid != "" && r.UUID != row.uuid) {
			// New, or back (a replacement that took the lost engine's id): start afresh.
			row = &tracked{registered: true, seen: now, answered: now}
			t.rows[r.ID] = row
			delete(t.stopped, r.ID)
		}
		row.report = r
		if r.UUID != "" {
			row.uuid = r.UUID
		}
		if !r.LastHeartbeat.IsZero() {
			row.answered = r.LastHeartbeat
		}
	}
	for id, row := range t.rows {
		if row.registered && !present[id] {
			row.registered, row.goneAt = false, now
		}
	}
	t.prune()
}

// prune drops the oldest gone engines beyond maxGone.
func (t *tracker) prune() {
	var gone []int
	for id, row := range t.rows {
		if !row.registered {
			gone = append(gone, id)
		}
	}
	if len(gone) <= maxGone {
		return
	}
	slices.SortFunc(gone, func(a, b int) int { return t.rows[a].goneAt.Compare(t.rows[b].goneAt) })
	for _, id := range gone[:len(gone)-maxGone] {
		delete(t.rows, id)
		delete(t.stopped, id)
	}
}

// markStopped records engines stopped on purpose, so that their leaving is not a loss.
func (t *tracker) markStopped(ids []int, why string) {
	for _, id := range ids {
		t.stopped[id] = why
	}
}

// stoppedWithCluster marks as stopped the engines that left since the given time, and those
// still registered when withRegistered is set: the cluster was stopped, and `ipcluster stop`
// stops the engines first (they unregister one by one, which alone would look like losses),
// then the controller, then removes the cluster file.
func (t *tracker) stoppedWithCluster(since time.Time, withRegistered bool, why string) {
	for id, row := range t.rows {
		if (row.registered && withRegistered) || (!row.registered && !row.goneAt.Before(since)) {
			if t.stopped[id] == "" {
				t.stopped[id] = why
			}
		}
	}
}

// unmarkStopped undoes markStopped (the stop failed).
func (t *tracker) unmarkStopped(ids []int) {
	for _, id := range ids {
		delete(t.stopped, id)
	}
}

// dueProbes are the registered engines to probe now: not probed within every, no probe
// outstanding.
func (t *tracker) dueProbes(now time.Time, every time.Duration) []int {
	var ids []int
	for id, row := range t.rows {
		if row.registered && !row.probing && now.Sub(row.probed) >= every {
			row.probing, row.probed = true, now
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// probed records a probe's outcome (a nil answer: it failed or timed out).
func (t *tracker) probeDone(id int, a *probeAnswer, now time.Time) {
	row := t.rows[id]
	if row == nil {
		return
	}
	row.probing = false
	if a == nil || !row.registered {
		return
	}
	row.answered = now
	if a.UUID != "" {
		row.uuid = a.UUID
	}
	if a.Kind != "" {
		row.kind = a.Kind
	}
}

// idByUUID maps the engine uuids the task records name to engine ids.
func (t *tracker) idByUUID() map[string]int {
	m := make(map[string]int, len(t.rows))
	for id, row := range t.rows {
		if row.uuid != "" {
			m[row.uuid] = id
		}
	}
	return m
}

// uuidOf is an engine's uuid, "" when not known yet.
func (t *tracker) uuidOf(id int) string {
	if row := t.rows[id]; row != nil {
		return row.uuid
	}
	return ""
}

// engines renders the rows, sorted by id.
func (t *tracker) engines(now time.Time) []Engine {
	out := make([]Engine, 0, len(t.rows))
	for id, row := range t.rows {
		r := row.report
		e := Engine{ID: id, UUID: row.uuid, Running: r.Running, Queued: r.Queued, Completed: r.Completed, Failed: r.Failed}
		if row.kind != "" {
			e.Kind = ptr(row.kind)
		}
		if r.Host != "" {
			e.Host = ptr(r.Host)
		}
		if r.PID > 0 {
			e.PID = ptr(r.PID)
		}
		if r.CurrentTask != "" {
			e.CurrentTask = ptr(r.CurrentTask)
		}
		silent := now.Sub(row.answered)
		if row.registered {
			e.HeartbeatAge = ptr(max(silent, 0).Seconds())
		}
		switch {
		case t.stopped[id] != "" && (!row.registered || silent > t.lostAfter):
			// Stopped on purpose: gone, or silent while a controller that was stopped too
			// can no longer say it went.
			e.State, e.Detail = Stopped, t.stopped[id]
			e.Running, e.Queued, e.CurrentTask, e.HeartbeatAge = 0, 0, nil, nil
		case !row.registered:
			e.State, e.Detail = Lost, "unregistered by the controller"
			e.Running, e.Queued, e.CurrentTask = 0, 0, nil
		case silent > t.lostAfter:
			e.State = Lost
			e.Detail = fmt.Sprintf("no answer for %ds; the controller still lists it", int(silent.Seconds()))
		case r.State == Draining:
			e.State = Draining
		case r.State == Busy || r.Running+r.Queued > 0:
			e.State = Busy
		default:
			e.State = Idle
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Engine) int { return a.ID - b.ID })
	return out
}

func ptr[T any](v T) *T { return &v }
