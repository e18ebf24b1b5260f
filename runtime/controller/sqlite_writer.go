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
	db        *sql.DB
	log       *slog.Logger
	upsert    string
	delete    string
	batches   chan sqliteBatch
	finished  chan struct{}
	committed atomic.Uint64 // sequence of the last batch committed (or given up on)
	lastErr   error         // the last failure, reported by stop
}

// sqliteQueuedBatches bounds the batches waiting for the disk: past it the loop waits, so
// a disk slower than the tasks slows the tasks instead of growing memory.
const sqliteQueuedBatches = 64

func startSQLiteWriter(db *sql.DB, table string, log *slog.Logger) *sqliteWriter {
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(sqliteColumns)), ", ")
	sets := make([]string, 0, len(sqliteColumns)-1)
	for _, c := range sqliteColumns[1:] {
		sets = append(sets, c.name+" = excluded."+c.name)
	}
	w := &sqliteWriter{
		db:  db,
		log: log,
		upsert: "INSERT INTO " + quoteIdent(table) + " (" + columnList() + ") VALUES (" + marks +
			") ON CONFLICT (msg_id) DO UPDATE SET " + strings.Join(sets, ", "),
		delete:   "DELETE FROM " + quoteIdent(table) + " WHERE msg_id = ?",
		batches:  make(chan sqliteBatch, sqliteQueuedBatches),
		finished: make(chan struct{}),
	}
	go w.run()
	return w
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

func (w *sqliteWriter) commit(group []sqliteBatch) error {
	if countUpserts(group) == 0 && !hasDeletes(group) {
		return nil
	}
	tx, err := w.db.Begin()
	if err != nil {
		return fmt.Errorf("starting a transaction: %w", err)
	}
	upsert, err := tx.Prepare(w.upsert)
	if err != nil {
		tx.Rollback()
		return fmt.Errorf("preparing the insert: %w", err)
	}
	defer upsert.Close()
	for _, b := range group {
		for i := range b.upserts {
			if _, err := upsert.Exec(recordArgs(&b.upserts[i])...); err != nil {
				tx.Rollback()
				return fmt.Errorf("saving record %q: %w", b.upserts[i].MsgID, err)
			}
		}
		for _, id := range b.deletes {
			if _, err := tx.Exec(w.delete, id); err != nil {
				tx.Rollback()
				return fmt.Errorf("deleting record %q: %w", id, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
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
