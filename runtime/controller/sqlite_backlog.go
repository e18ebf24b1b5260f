package controller

import (
	"sync"
	"sync/atomic"
	"time"
)

// sqliteStep is a part of a commit: records to insert or replace, then msg_ids to delete.
// Records dropped from a backlog are nil (upserts[:head] are all nil).
type sqliteStep struct {
	upserts []*Record
	deletes []string
	head    int
}

// sqlitePlan orders changes into steps: a record changed several times within a step is
// written once, as its latest snapshot in the place of its first one (so rows keep their
// insertion order); a delete ends a step, so a record deleted and added again comes back.
type sqlitePlan struct {
	steps   []sqliteStep
	index   map[string]int // msg_id -> position in the last step's upserts
	records int            // upserts in all steps
	bytes   int64          // their memBytes
}

func (p *sqlitePlan) upsert(r *Record) (replaced *Record) {
	if p.index == nil {
		p.index = map[string]int{}
	}
	if len(p.steps) == 0 || len(p.steps[len(p.steps)-1].deletes) > 0 {
		p.steps = append(p.steps, sqliteStep{})
		clear(p.index)
	}
	last := &p.steps[len(p.steps)-1]
	p.bytes += r.memBytes()
	if at, ok := p.index[r.MsgID]; ok && last.upserts[at] != nil { // (nil: dropped from a backlog)
		replaced = last.upserts[at]
		p.bytes -= replaced.memBytes()
		last.upserts[at] = r
		return replaced
	}
	p.index[r.MsgID] = len(last.upserts)
	last.upserts = append(last.upserts, r)
	p.records++
	return nil
}

func (p *sqlitePlan) delete(ids []string) {
	if len(ids) == 0 {
		return
	}
	if len(p.steps) == 0 {
		p.steps = append(p.steps, sqliteStep{})
	}
	last := &p.steps[len(p.steps)-1]
	last.deletes = append(last.deletes, ids...)
}

// add puts a batch's changes in order; keep copies the records (so that the plan does not
// hold the batch's array).
func (p *sqlitePlan) add(b *sqliteBatch, keep bool, onUpsert func(r, replaced *Record)) {
	for i := range b.upserts {
		r := &b.upserts[i]
		if keep {
			cp := *r
			r = &cp
		}
		replaced := p.upsert(r)
		if onUpsert != nil {
			onUpsert(r, replaced)
		}
	}
	p.delete(b.deletes)
}

// memBytes estimates what a record snapshot holds in memory: its parts and a fixed
// overhead for the struct and its slices.
func (r *Record) memBytes() int64 {
	n := r.sizeBytes() + 512
	for _, part := range [][]byte{r.Header, r.Content, r.Metadata, r.ResultHeader, r.ResultMetadata,
		r.ResultContent, r.ExecuteResult, r.Error, r.Label} {
		n += int64(len(part))
	}
	return n
}

// Records the disk refused (full, or failing) stay in memory, up to these bounds, until a
// retry writes them; past them the oldest are lost, and counted in the log.
const (
	sqliteBacklogRecords = 200_000
	sqliteBacklogBytes   = 256 << 20
	sqliteRetryInterval  = time.Second
)

// sqliteBacklog holds the changes that could not be committed, in order. The writer
// goroutine changes it; the event loop reads it (under mu) to serve those records until
// they are on disk.
type sqliteBacklog struct {
	mu      sync.Mutex
	plan    sqlitePlan
	latest  map[string]*Record // msg_id -> the newest snapshot waiting
	deleted map[string]bool    // msg_ids whose last change is a delete not yet on disk
	pending atomic.Bool        // anything waiting (read without the lock)

	maxRecords int   // bounds: sqliteBacklogRecords and sqliteBacklogBytes
	maxBytes   int64 // (fields, so that a test can make them small)

	// writer only: the current burst of failures
	since    time.Time
	attempts int
	lost     int // dropped past the bounds
	saved    int // written by retries
}

// keep adds a group the disk refused (or that came while it refuses) to the backlog and
// drops the oldest records past the bounds; it reports how many it dropped.
func (k *sqliteBacklog) keep(group []sqliteBatch) (dropped int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.latest == nil {
		k.latest, k.deleted = map[string]*Record{}, map[string]bool{}
	}
	for i := range group {
		k.plan.add(&group[i], true, func(r, _ *Record) {
			k.latest[r.MsgID] = r
			delete(k.deleted, r.MsgID)
		})
		for _, id := range group[i].deletes {
			k.deleted[id] = true
			delete(k.latest, id)
		}
	}
	for k.plan.records > k.maxRecords || k.plan.bytes > k.maxBytes {
		k.dropOldest()
		dropped++
	}
	k.pending.Store(len(k.plan.steps) > 0)
	return dropped
}

// dropOldest forgets the oldest record waiting (deletes stay: they cost next to nothing,
// and their order with the records around them matters).
func (k *sqliteBacklog) dropOldest() {
	for i := range k.plan.steps {
		st := &k.plan.steps[i]
		for st.head < len(st.upserts) && st.upserts[st.head] == nil {
			st.head++
		}
		if st.head == len(st.upserts) {
			continue
		}
		r := st.upserts[st.head]
		st.upserts[st.head] = nil // kept as a hole: positions in the index stay right
		st.head++
		k.plan.records--
		k.plan.bytes -= r.memBytes()
		if k.latest[r.MsgID] == r {
			delete(k.latest, r.MsgID)
		}
		return
	}
}

// front is the next part of the backlog to commit: up to n records of its first step
// (slots counts the places they take, holes included), or the step's deletes once its
// records are written. (The writer's own view: no lock, since only the writer changes it.)
func (k *sqliteBacklog) front(n int) (slots int, recs []*Record, deletes []string) {
	st := &k.plan.steps[0]
	for i := st.head; i < len(st.upserts) && len(recs) < n; i++ {
		slots++
		if r := st.upserts[i]; r != nil {
			recs = append(recs, r)
		}
	}
	if slots > 0 {
		return slots, recs, nil
	}
	return 0, nil, st.deletes
}

// written takes out of the backlog the front part that was committed.
func (k *sqliteBacklog) written(slots int, recs []*Record, deletes []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	st := &k.plan.steps[0]
	for _, r := range recs {
		if k.latest[r.MsgID] == r { // else a newer snapshot waits further on
			delete(k.latest, r.MsgID)
		}
		k.plan.records--
		k.plan.bytes -= r.memBytes()
	}
	clear(st.upserts[st.head : st.head+slots])
	st.head += slots
	for _, id := range deletes {
		delete(k.deleted, id) // the file is right about it now, whatever comes later
	}
	if st.head == len(st.upserts) && (slots == 0 || len(st.deletes) == 0) {
		k.plan.steps[0] = sqliteStep{}
		k.plan.steps = k.plan.steps[1:]
		if len(k.plan.steps) == 0 {
			k.plan = sqlitePlan{}
			k.latest, k.deleted = nil, nil
		}
	}
	k.pending.Store(len(k.plan.steps) > 0)
}

// lookup tells whether msgID waits in the backlog: its newest snapshot (a copy the caller
// may change), or deleted.
func (k *sqliteBacklog) lookup(msgID string) (rec *Record, deleted bool) {
	if !k.pending.Load() {
		return nil, false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.deleted[msgID] {
		return nil, true
	}
	if r := k.latest[msgID]; r != nil {
		cp := *r
		return &cp, false
	}
	return nil, false
}

// snapshot returns copies of the waiting records (in the order the file will have them)
// and the msg_ids waiting to be deleted; nil, nil when nothing waits.
func (k *sqliteBacklog) snapshot() (recs []*Record, deleted map[string]bool) {
	if !k.pending.Load() {
		return nil, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, st := range k.plan.steps {
		for _, r := range st.upserts {
			if r != nil && k.latest[r.MsgID] == r { // where the file will have it
				cp := *r
				recs = append(recs, &cp)
			}
		}
	}
	deleted = make(map[string]bool, len(k.deleted))
	for id := range k.deleted {
		deleted[id] = true
	}
	return recs, deleted
}
