package controller

import (
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
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
	batches    chan sqliteBatch
	finished   chan struct{}
	committed  atomic.Uint64 // sequence of the last batch committed (or given up on)
	lastErr    error         // the last failure, reported by stop
}

// sqliteQueuedBatches bounds the batches waiting for the disk: past it the loop waits, so
// a disk slower than the tasks slows the tasks instead of growing memory.
const sqliteQueuedBatches = 64

func startSQLiteWriter(db *sql.DB, table string, layout sqliteLayout, log *slog.Logger) *sqliteWriter {
	w := &sqliteWriter{
		db:       db,
		log:      log,
		table:    quoteIdent(table),
		layout:   layout,
		delete:   "DELETE FROM " + quoteIdent(table) + " WHERE msg_id = ?",
		batches:  make(chan sqliteBatch, sqliteQueuedBatches),
		finished: make(chan struct{}),
	}
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

func (w *sqliteWriter) run() {
	defer close(w.finished)
	for b := range w.batches {
		group := []sqliteBatch{b}
	more:
		for len(group) < sqliteQueuedBatches {
			select {
			case next, ok := <-w.batches:
				if !ok {
					break more
				}
				group = append(group, next)
			default:
				break more
			}
		}
		if err := w.commit(group); err != nil {
			w.lastErr = err
			w.log.Error("task records not saved", "records", countUpserts(group), "err", err)
		}
		w.committed.Store(group[len(group)-1].seq)
		for _, b := range group {
			if b.done != nil {
				close(b.done)
			}
		}
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

func (w *sqliteWriter) commit(group []sqliteBatch) error {
	if countUpserts(group) == 0 && !hasDeletes(group) {
		return nil
	}
	tx, err := w.db.Begin()
	if err != nil {
		return fmt.Errorf("starting a transaction: %w", err)
	}
	if err := w.write(tx, group); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// write saves the group's records and deletes in order. A record changed in several of the
// batches is written once, as its latest snapshot (in the place of its first one, so rows
// keep their insertion order), unless a delete comes between.
func (w *sqliteWriter) write(tx *sql.Tx, group []sqliteBatch) error {
	var pending []*Record
	index := map[string]int{}
	for _, b := range group {
		for i := range b.upserts {
			r := &b.upserts[i]
			if at, ok := index[r.MsgID]; ok {
				pending[at] = r
				continue
			}
			index[r.MsgID] = len(pending)
			pending = append(pending, r)
		}
		if len(b.deletes) == 0 {
			continue
		}
		if err := w.upsertAll(tx, pending); err != nil {
			return err
		}
		pending = pending[:0]
		clear(index)
		for _, id := range b.deletes {
			if _, err := tx.Exec(w.delete, id); err != nil {
				return fmt.Errorf("deleting record %q: %w", id, err)
			}
		}
	}
	return w.upsertAll(tx, pending)
}

// upsertAll saves recs, sqliteRowsPerInsert to a statement, the rest one by one.
func (w *sqliteWriter) upsertAll(tx *sql.Tx, recs []*Record) error {
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

func hasDeletes(group []sqliteBatch) bool {
	for _, b := range group {
		if len(b.deletes) > 0 {
			return true
		}
	}
	return false
}
