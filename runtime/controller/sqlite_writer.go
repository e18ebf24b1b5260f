package controller

import (
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// sqliteBatch is what the event loop hands the writer: record snapshots to insert or
// replace, msg_ids to delete (after them), and done to close once they are committed.
type sqliteBatch struct {
	seq     uint64
	upserts []Record
	deletes []string
	done    chan struct{}
}

// sqliteWriter commits batches on its own goroutine, several queued batches per transaction.
type sqliteWriter struct {
	db         *sql.DB
	log        *slog.Logger
	table      string // quoted
	layout     sqliteLayout
	upsertOne  string // upsertRows(1)
	upsertMany string // upsertRows(sqliteRowsPerInsert)
	delete     string
	path       string // for the log
	batches    chan sqliteBatch
	finished   chan struct{}
	committed  atomic.Uint64 // sequence of the last batch committed or kept in the backlog
	backlog    sqliteBacklog // what the disk refused, until a retry writes it
	lastErr    error         // the last failure, reported by stop
}

// sqliteQueuedBatches bounds the batches waiting for the disk: past it the loop waits, so
// a disk slower than the tasks slows the tasks instead of growing memory.
const sqliteQueuedBatches = 64

func startSQLiteWriter(db *sql.DB, path, table string, layout sqliteLayout, log *slog.Logger) *sqliteWriter {
	w := &sqliteWriter{
		db:       db,
		path:     path,
		log:      log,
		table:    quoteIdent(table),
		layout:   layout,
		delete:   "DELETE FROM " + quoteIdent(table) + " WHERE msg_id = ?",
		batches:  make(chan sqliteBatch, sqliteQueuedBatches),
		finished: make(chan struct{}),
	}
	w.backlog.maxRecords, w.backlog.maxBytes = sqliteBacklogRecords, sqliteBacklogBytes
	w.upsertOne, w.upsertMany = w.upsertRows(1), w.upsertRows(sqliteRowsPerInsert)
	go w.run()
	return w
}

// upsertRows is the statement that inserts n records, or replaces them if their msg_id is
// in the table already.
func (w *sqliteWriter) upsertRows(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(w.layout)), ", ") + ")"
	sets := make([]string, 0, len(w.layout)-1)
	for _, c := range w.layout[1:] {
		sets = append(sets, c.name+" = excluded."+c.name)
	}
	return "INSERT INTO " + w.table + " (" + w.layout.columnList() + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") +
		" ON CONFLICT (msg_id) DO UPDATE SET " + strings.Join(sets, ", ")
}

func (w *sqliteWriter) submit(b sqliteBatch) { w.batches <- b }

// stop commits what is queued and ends the goroutine.
func (w *sqliteWriter) stop() error {
	close(w.batches)
	<-w.finished
	return w.lastErr
}

// run commits batches as they come, several queued ones per transaction. When the disk
// refuses a commit (full, most often), the records go to the backlog, which the event loop
// serves from; batches that come while it refuses join the backlog without a try, and the
// whole backlog is tried again every sqliteRetryInterval until it is written.
func (w *sqliteWriter) run() {
	defer close(w.finished)
	retry := time.NewTimer(sqliteRetryInterval)
	retry.Stop()
	for {
		var group []sqliteBatch
		select {
		case b, ok := <-w.batches:
			if !ok {
				w.giveUp()
				return
			}
			group = w.gather(b)
			if w.backlog.pending.Load() {
				w.keep(group, nil)
			} else if err := w.commit(group); err != nil {
				w.keep(group, err)
				retry.Reset(sqliteRetryInterval)
			}
			w.committed.Store(group[len(group)-1].seq)
			for _, b := range group {
				if b.done != nil {
					close(b.done)
				}
			}
		case <-retry.C:
			if w.retryBacklog() != nil {
				retry.Reset(sqliteRetryInterval)
			}
		}
	}
}

// gather takes b and the batches queued behind it.
func (w *sqliteWriter) gather(b sqliteBatch) []sqliteBatch {
	group := []sqliteBatch{b}
	for len(group) < sqliteQueuedBatches {
		select {
		case next, ok := <-w.batches:
			if !ok {
				return group
			}
			group = append(group, next)
		default:
			return group
		}
	}
	return group
}

// keep puts a group in the backlog; err is the failure that started a burst (nil: the
// disk is known to refuse already). A burst is logged when it starts, when it first loses
// records to the bounds, and when it ends.
func (w *sqliteWriter) keep(group []sqliteBatch, err error) {
	k := &w.backlog
	if err != nil {
		k.since, k.attempts, k.lost, k.saved = time.Now(), 1, 0, 0
		w.lastErr = err
		w.log.Error("task records cannot be written; keeping them in memory, served from there, and retrying",
			"file", w.path, "records", countUpserts(group), "retry_every", sqliteRetryInterval, "err", err)
	}
	if dropped := k.keep(group); dropped > 0 {
		if k.lost == 0 {
			w.log.Error("task records lost: more are waiting for the disk than memory keeps",
				"file", w.path, "max_records", k.maxRecords, "max_bytes", k.maxBytes)
		}
		k.lost += dropped
	}
}

// sqliteRetryRecords is how many records a retry commits per transaction: whatever fits
// in the space that came back is written, even if the whole backlog does not fit.
const sqliteRetryRecords = 256

// retryBacklog commits the backlog, part by part; once it is all written it says so in
// the log. On a failure the rest stays, and the WAL is checkpointed and truncated so that
// the space its frames hold is the file system's again.
func (w *sqliteWriter) retryBacklog() error {
	k := &w.backlog
	k.attempts++
	for k.pending.Load() {
		slots, recs, deletes := k.front(sqliteRetryRecords)
		if err := w.commitSteps([]sqliteStep{{upserts: recs, deletes: deletes}}); err != nil {
			w.lastErr = err
			w.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)") // best effort: it may need space too
			return err
		}
		k.written(slots, recs, deletes)
		k.saved += len(recs)
	}
	w.lastErr = nil
	w.log.Warn("task records written again: the disk took the ones kept in memory",
		"file", w.path, "records", k.saved, "after", time.Since(k.since).Round(time.Millisecond),
		"attempts", k.attempts, "lost", k.lost)
	return nil
}

// giveUp is the writer's end: one last try for the backlog, whose records are lost if the
// disk still refuses them.
func (w *sqliteWriter) giveUp() {
	if !w.backlog.pending.Load() {
		return
	}
	if err := w.retryBacklog(); err != nil {
		w.log.Error("task records lost at shutdown: the disk still refuses them",
			"file", w.path, "records", w.backlog.plan.records, "lost_before", w.backlog.lost, "err", err)
	}
}

func countUpserts(group []sqliteBatch) int {
	n := 0
	for _, b := range group {
		n += len(b.upserts)
	}
	return n
}

// sqliteRowsPerInsert is how many records one INSERT statement carries: fewer statements
// spare most of the per-statement cost (database/sql's and the driver's), and 23 columns
// times this stays far below SQLite's limit on parameters.
const sqliteRowsPerInsert = 32

// commit saves a group in one transaction. A record changed in several of the batches is
// written once (see sqlitePlan).
func (w *sqliteWriter) commit(group []sqliteBatch) error {
	var p sqlitePlan
	for i := range group {
		p.add(&group[i], false, nil)
	}
	return w.commitSteps(p.steps)
}

func (w *sqliteWriter) commitSteps(steps []sqliteStep) error {
	if len(steps) == 0 {
		return nil
	}
	tx, err := w.db.Begin()
	if err != nil {
		return fmt.Errorf("starting a transaction: %w", err)
	}
	if err := w.write(tx, steps); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// write saves the steps' records and deletes in order.
func (w *sqliteWriter) write(tx *sql.Tx, steps []sqliteStep) error {
	for _, st := range steps {
		if err := w.upsertAll(tx, st.upserts[st.head:]); err != nil {
			return err
		}
		for _, id := range st.deletes {
			if _, err := tx.Exec(w.delete, id); err != nil {
				return fmt.Errorf("deleting record %q: %w", id, err)
			}
		}
	}
	return nil
}

// upsertAll saves recs, sqliteRowsPerInsert to a statement, the rest one by one (nil ones,
// dropped from a backlog, are skipped).
func (w *sqliteWriter) upsertAll(tx *sql.Tx, recs []*Record) error {
	if slices.Contains(recs, nil) {
		recs = slices.DeleteFunc(slices.Clone(recs), func(r *Record) bool { return r == nil })
	}
	if len(recs) == 0 {
		return nil
	}
	args := make([]any, 0, sqliteRowsPerInsert*len(w.layout))
	if len(recs) >= sqliteRowsPerInsert {
		many, err := tx.Prepare(w.upsertMany)
		if err != nil {
			return fmt.Errorf("preparing the insert: %w", err)
		}
		defer many.Close()
		for len(recs) >= sqliteRowsPerInsert {
			args = args[:0]
			for _, r := range recs[:sqliteRowsPerInsert] {
				args = appendRecordArgs(args, r, w.layout)
			}
			if _, err := many.Exec(args...); err != nil {
				return fmt.Errorf("saving records %q to %q: %w", recs[0].MsgID, recs[sqliteRowsPerInsert-1].MsgID, err)
			}
			recs = recs[sqliteRowsPerInsert:]
		}
	}
	if len(recs) == 0 {
		return nil
	}
	one, err := tx.Prepare(w.upsertOne)
	if err != nil {
		return fmt.Errorf("preparing the insert: %w", err)
	}
	defer one.Close()
	for _, r := range recs {
		if _, err := one.Exec(appendRecordArgs(args[:0], r, w.layout)...); err != nil {
			return fmt.Errorf("saving record %q: %w", r.MsgID, err)
		}
	}
	return nil
}
