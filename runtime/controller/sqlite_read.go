package controller

import (
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// Reading many records from the SQLite store: queries and history, over the file, the
// cache and the writer's backlog.

// rowRecord is a record with its rowid (insertion order, as the in-memory DB's sequence).
type rowRecord struct {
	rec   *Record
	rowid int64
}

// all reads the records with the given msg_ids (nil: every record) after a sync, each as
// the cache holds it if it does (display_data has no column: only the cached record has
// it), with what waits in the writer's backlog (records the disk has not taken yet).
func (d *sqliteDB) all(msgIDs []string) ([]rowRecord, error) {
	d.sync()
	q, args := d.selectAll, []any(nil)
	if msgIDs != nil {
		q += " WHERE msg_id IN (" + strings.TrimSuffix(strings.Repeat("?,", len(msgIDs)), ",") + ")"
		for _, id := range msgIDs {
			args = append(args, id)
		}
	}
	waiting, deleted := d.writer.backlog.snapshot()
	byID := make(map[string]*Record, len(waiting))
	for _, r := range waiting {
		byID[r.MsgID] = r
	}
	rows, err := d.db.Query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", d.path, err)
	}
	defer rows.Close()
	vals := make([]any, len(d.layout)+1)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []rowRecord
	var lastRowid int64
	for rows.Next() {
		clear(vals)
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("reading %s: %w", d.path, err)
		}
		rowid, _ := vals[0].(int64)
		lastRowid = max(lastRowid, rowid)
		id, _ := asText(vals[1])
		switch {
		case deleted[id]:
			continue
		case d.cache[id] != nil:
			out = append(out, rowRecord{d.cache[id].rec, rowid})
		case byID[id] != nil:
			out = append(out, rowRecord{byID[id], rowid})
		default:
			rec, err := recordFromRow(vals[1:], d.layout)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", d.path, err)
			}
			out = append(out, rowRecord{rec, rowid})
		}
		delete(byID, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", d.path, err)
	}
	var wanted map[string]bool
	if msgIDs != nil {
		wanted = make(map[string]bool, len(msgIDs))
		for _, id := range msgIDs {
			wanted[id] = true
		}
	}
	for _, r := range waiting { // not in the file yet: after its rows, in the order they came
		if byID[r.MsgID] == nil || wanted != nil && !wanted[r.MsgID] {
			continue
		}
		if c := d.cache[r.MsgID]; c != nil {
			r = c.rec
		}
		lastRowid++
		out = append(out, rowRecord{r, lastRowid})
	}
	sortRows(out)
	return out, nil
}

// sortRows orders records as the in-memory DB does: by submission time, insertion order
// breaking ties and placing records without one.
func sortRows(out []rowRecord) {
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.rec.Submitted != b.rec.Submitted && a.rec.Submitted != "" && b.rec.Submitted != "" {
			return a.rec.Submitted < b.rec.Submitted
		}
		return a.rowid < b.rowid
	})
}

// find answers a query with the in-memory DB's matcher, so both give the same answers; a
// query on msg_id (the usual one) reads only those rows.
func (d *sqliteDB) find(q map[string]any) ([]*Record, error) {
	m, err := compileQuery(q)
	if err != nil {
		return nil, err
	}
	recs, err := d.all(msgIDsOf(q["msg_id"]))
	if err != nil {
		return nil, err
	}
	var out []*Record
	for _, r := range recs {
		if m(r.rec) {
			out = append(out, r.rec)
		}
	}
	return out, nil
}

// msgIDsOf narrows a read to the msg_ids a query names (a value or {"$in": [...]}); nil
// when it names none (then every record is read). The full matcher still runs on what is read.
func msgIDsOf(cond any) []string {
	switch c := cond.(type) {
	case string:
		return []string{c}
	case map[string]any:
		list, ok := c["$in"].([]any)
		if !ok || len(list) == 0 || len(list) > 500 {
			return nil
		}
		ids := make([]string, 0, len(list))
		for _, v := range list {
			s, ok := v.(string)
			if !ok {
				return nil
			}
			ids = append(ids, s)
		}
		return ids
	}
	return nil
}

// history lists the msg_ids with a submission time, in the order find uses (reading only
// the three columns that order needs).
func (d *sqliteDB) history() ([]string, error) {
	d.sync()
	if d.writer.backlog.pending.Load() { // some records are not in the file yet
		recs, err := d.all(nil)
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, r := range recs {
			if r.rec.Submitted != "" {
				ids = append(ids, r.rec.MsgID)
			}
		}
		return ids, nil
	}
	rows, err := d.db.Query("SELECT rowid, msg_id, CAST(submitted AS TEXT) FROM " + quoteIdent(d.table) + " WHERE submitted IS NOT NULL")
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", d.path, err)
	}
	defer rows.Close()
	var recs []rowRecord
	for rows.Next() {
		var r rowRecord
		var id, submitted sql.NullString
		if err := rows.Scan(&r.rowid, &id, &submitted); err != nil {
			return nil, fmt.Errorf("reading %s: %w", d.path, err)
		}
		r.rec = &Record{MsgID: id.String, Submitted: submitted.String}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", d.path, err)
	}
	sortRows(recs)
	ids := make([]string, 0, len(recs))
	for _, r := range recs {
		if r.rec.Submitted != "" {
			ids = append(ids, r.rec.MsgID)
		}
	}
	return ids, nil
}
