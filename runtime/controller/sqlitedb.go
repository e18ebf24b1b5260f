package controller

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // pure Go: the binaries stay static (no cgo)
)

// sqliteDB keeps task records in an SQLite file with ipyparallel's SQLiteDB layout, so that
// they outlive the controller and either controller reads the other's file.
//
// The event loop never waits on the disk for a task: it changes records in memory (the
// records it is working on stay cached) and hands the changed ones, as snapshots, to a
// writer goroutine in batches of sqliteBatchRecords records or every sqliteBatchInterval;
// the writer commits each batch (and whatever batches queued behind it) in one
// transaction, in WAL mode without an fsync per commit. A task still running is held back
// up to sqliteHoldIncomplete, so that most tasks are written once, complete, rather than
// twice. A crash thus loses at most the results of the last sqliteBatchInterval and the
// requests of the last sqliteHoldIncomplete (plus batches still queued if the disk is
// slower than the tasks), and WAL keeps the file consistent. Queries (get_result,
// db_query, hub_history) first hand off everything and wait for it, so they see every
// change made so far. When the disk refuses a commit (full), the writer keeps the records
// in its backlog (bounded), which queries read with the file, and writes them once the disk
// takes them again (sqlite_backlog.go).
type sqliteDB struct {
	db     *sql.DB
	path   string
	table  string
	layout sqliteLayout // with or without a label column
	log    *slog.Logger
	after  func(time.Duration, func()) // runs a function on the event loop later

	cache      map[string]*cachedRecord
	fifo       []*cachedRecord // cache entries in insertion order (stale ones included), for eviction
	dirty      []*cachedRecord // changed since their last hand-off
	timerSet   bool
	nextBatch  int    // dirty records that start a hand-off (held ones do not count)
	handedOff  uint64 // sequence number of the last batch handed off
	seen       *seenFilter
	selectOne  string
	selectAll  string
	writer     *sqliteWriter
	closeOnce  sync.Once
	closeError error
}

// cachedRecord is a record the event loop holds; handed is the batch its last change went in.
type cachedRecord struct {
	rec     *Record
	dirty   bool
	since   time.Time // when it became dirty
	dropped bool
	handed  uint64
}

const (
	sqliteBatchRecords   = 256
	sqliteBatchInterval  = 100 * time.Millisecond
	sqliteHoldIncomplete = 2 * time.Second
	sqliteCacheRecords   = 4096 // records kept in memory once written (the ones in use are kept anyway)
)

// SQLiteSettings are the SQLiteDB options.
type SQLiteSettings struct {
	Filename string // default tasks.db
	Location string // directory; default the profile directory
	Table    string // default ipython-tasks
}

// openSQLiteDB opens (or creates) the task database. after schedules a function on the
// event loop (nil: batches are handed off only when full or when a query needs them).
func openSQLiteDB(s SQLiteSettings, profileDir string, log *slog.Logger, after func(time.Duration, func())) (*sqliteDB, error) {
	if s.Filename == "" {
		s.Filename = "tasks.db"
	}
	if s.Location == "" {
		s.Location = profileDir
	}
	if s.Table == "" {
		s.Table = "ipython-tasks"
	}
	path := s.Filename
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.Location, s.Filename)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("task database %s: %w", path, err)
	}
	if after == nil {
		after = func(time.Duration, func()) {}
	}
	d, err := openSQLiteFile(path, s.Table, log)
	if err != nil {
		return nil, fmt.Errorf("task database %s: %w (set c.SQLiteDB.filename or location to another file, or use --dictdb)", path, err)
	}
	d.after = after
	return d, nil
}

func openSQLiteFile(path, want string, log *slog.Logger) (*sqliteDB, error) {
	// WAL: a crash never leaves a torn file; synchronous=NORMAL: no fsync per commit in WAL.
	// The page cache stays at SQLite's default 2 MiB: a larger one made each record's write
	// dearer (a 16 MiB one: +40% writer time in BenchmarkSQLiteWriter, at 20000 records and
	// at 100000), while a record read back is found by the msg_id index in the OS's cache.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-2000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*sqliteDB, error) {
		db.Close()
		if strings.Contains(err.Error(), "not a database") {
			return nil, errors.New("the file is not an SQLite database")
		}
		return nil, err
	}
	if err := db.Ping(); err != nil {
		return fail(err)
	}
	table, layout, err := chooseTable(db, want, log)
	if err != nil {
		return fail(err)
	}
	if err := createTable(db, table, layout); err != nil {
		return fail(err)
	}
	d := &sqliteDB{db: db, path: path, table: table, layout: layout, log: log, cache: map[string]*cachedRecord{},
		seen: newSeenFilter(), nextBatch: sqliteBatchRecords}
	d.selectOne = "SELECT " + layout.selectList() + " FROM " + quoteIdent(table) + " WHERE msg_id = ?"
	d.selectAll = "SELECT rowid, " + layout.selectList() + " FROM " + quoteIdent(table)
	if err := d.loadSeen(); err != nil {
		return fail(err)
	}
	d.writer = startSQLiteWriter(db, path, table, layout, log)
	return d, nil
}

// loadSeen fills the filter with the msg_ids already in the table.
func (d *sqliteDB) loadSeen() error {
	rows, err := d.db.Query("SELECT msg_id FROM " + quoteIdent(d.table))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id sql.NullString
		if err := rows.Scan(&id); err != nil {
			return err
		}
		d.seen.add(id.String)
	}
	return rows.Err()
}

func (d *sqliteDB) keeps() bool { return true }

func (d *sqliteDB) add(r *Record) {
	if old := d.cache[r.MsgID]; old != nil {
		old.dropped = true // a re-added record takes a fresh entry
	}
	c := &cachedRecord{rec: r}
	d.cache[r.MsgID] = c
	d.fifo = append(d.fifo, c)
	d.seen.add(r.MsgID)
	d.markDirty(c)
	d.evict()
}

// load returns the cached entry of msgID, reading it from the file into the cache if
// needed; nil when there is no such record.
func (d *sqliteDB) load(msgID string) (*cachedRecord, error) {
	if c := d.cache[msgID]; c != nil {
		return c, nil
	}
	rec, err := d.read(msgID)
	if rec == nil || err != nil {
		return nil, err
	}
	c := &cachedRecord{rec: rec}
	d.cache[msgID] = c
	d.fifo = append(d.fifo, c)
	return c, nil
}

// read reads one record from the file, or from the writer's backlog if the disk has not
// taken it yet. A record out of the cache has been handed to the writer (evict keeps the
// others) or dropped with a wait for the writer, so the two are current.
func (d *sqliteDB) read(msgID string) (*Record, error) {
	if !d.seen.maybe(msgID) {
		return nil, nil
	}
	if rec, deleted := d.writer.backlog.lookup(msgID); rec != nil || deleted {
		return rec, nil
	}
	vals := make([]any, len(d.layout))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := d.db.QueryRow(d.selectOne, msgID).Scan(ptrs...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading record %q from %s: %w", msgID, d.path, err)
	}
	return recordFromRow(vals, d.layout)
}

func (d *sqliteDB) get(msgID string) (*Record, error) {
	if c := d.cache[msgID]; c != nil {
		return c.rec, nil
	}
	rec, err := d.read(msgID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoRecord, err)
	}
	if rec == nil {
		return nil, fmt.Errorf("%w: no such msg_id %q", errNoRecord, msgID)
	}
	return rec, nil
}

func (d *sqliteDB) lookup(msgID string) *Record {
	r, _ := d.get(msgID)
	return r
}

func (d *sqliteDB) update(msgID string, f func(*Record)) error {
	c, err := d.load(msgID)
	if err != nil {
		d.log.Warn("cannot update a task record", "msg_id", msgID, "err", err)
		return errNoRecord
	}
	if c == nil {
		return errNoRecord
	}
	f(c.rec)
	d.markDirty(c)
	d.evict()
	return nil
}

func (d *sqliteDB) markDirty(c *cachedRecord) {
	if !c.dirty {
		c.dirty, c.since = true, time.Now()
		d.dirty = append(d.dirty, c)
	}
	if len(d.dirty) >= d.nextBatch {
		d.handOff(false)
	}
	d.armTimer()
}

func (d *sqliteDB) armTimer() {
	if !d.timerSet && len(d.dirty) > 0 {
		d.timerSet = true
		d.after(sqliteBatchInterval, func() {
			d.timerSet = false
			d.handOff(false)
			d.armTimer()
		})
	}
}

// handOff gives the writer snapshots of the changed records (all of them, or all but the
// tasks still running that changed less than sqliteHoldIncomplete ago). A snapshot is a
// shallow copy: the loop replaces a record's parts rather than changing them in place, and
// output only grows past what the copy sees.
func (d *sqliteDB) handOff(all bool) {
	if len(d.dirty) == 0 {
		return
	}
	now := time.Now()
	seq := d.handedOff + 1
	var upserts []Record
	held := d.dirty[:0]
	for _, c := range d.dirty {
		switch {
		case c.dropped:
			c.dirty = false
		case !all && c.rec.Completed == "" && now.Sub(c.since) < sqliteHoldIncomplete:
			held = append(held, c)
		default:
			c.dirty, c.handed = false, seq
			upserts = append(upserts, *c.rec)
		}
	}
	clear(d.dirty[len(held):])
	d.dirty = held
	d.nextBatch = len(held) + sqliteBatchRecords
	if len(upserts) > 0 {
		d.handedOff = seq
		d.writer.submit(sqliteBatch{seq: seq, upserts: upserts})
	}
}

// sync hands off what is pending and waits until it is committed.
func (d *sqliteDB) sync() {
	d.handOff(true)
	d.handedOff++
	done := make(chan struct{})
	d.writer.submit(sqliteBatch{seq: d.handedOff, done: done})
	<-done
}

// evict forgets the oldest cached records past sqliteCacheRecords that are committed.
func (d *sqliteDB) evict() {
	if len(d.cache) <= sqliteCacheRecords {
		return
	}
	committed := d.writer.committed.Load()
	i := 0
	for ; i < len(d.fifo) && len(d.cache) > sqliteCacheRecords; i++ {
		c := d.fifo[i]
		if c.dropped || d.cache[c.rec.MsgID] != c {
			continue // stale entry
		}
		if c.dirty || c.handed > committed {
			break
		}
		delete(d.cache, c.rec.MsgID)
	}
	if i > 0 {
		clear(d.fifo[:i])
		d.fifo = d.fifo[i:]
	}
}

func (d *sqliteDB) drop(msgIDs []string) {
	if len(msgIDs) == 0 {
		return
	}
	d.handOff(true) // earlier changes first
	for _, id := range msgIDs {
		if c := d.cache[id]; c != nil {
			c.dropped = true
			delete(d.cache, id)
		}
	}
	d.handedOff++
	done := make(chan struct{})
	d.writer.submit(sqliteBatch{seq: d.handedOff, deletes: msgIDs, done: done})
	<-done // so that a read that misses the cache never finds a dropped record
}

func (d *sqliteDB) dropWhere(pred func(*Record) bool) {
	recs, err := d.all(nil)
	if err != nil {
		d.log.Warn("cannot purge task records", "err", err)
		return
	}
	var ids []string
	for _, r := range recs {
		if pred(r.rec) {
			ids = append(ids, r.rec.MsgID)
		}
	}
	d.drop(ids)
}

// close commits what is pending and closes the file.
func (d *sqliteDB) close() error {
	d.closeOnce.Do(func() {
		d.handOff(true)
		d.closeError = d.writer.stop()
		if err := d.db.Close(); d.closeError == nil {
			d.closeError = err
		}
	})
	return d.closeError
}
