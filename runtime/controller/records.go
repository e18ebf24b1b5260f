package controller

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Record is a task record as ipyparallel's Hub keeps it: the request, where it ran, when,
// its result and its output. Empty strings and nil raw JSON stand for Python's None.
type Record struct {
	MsgID          string
	Header         json.RawMessage
	Content        json.RawMessage
	Metadata       json.RawMessage
	Buffers        [][]byte
	Submitted      string
	ClientUUID     string
	EngineUUID     string
	Started        string
	Completed      string
	Resubmitted    string
	Received       string
	ResultHeader   json.RawMessage
	ResultMetadata json.RawMessage
	ResultContent  json.RawMessage
	ResultBuffers  [][]byte
	resultBufsSet  bool // result_buffers is [] rather than None
	Queue          string
	ExecuteInput   *string
	ExecuteResult  json.RawMessage
	DisplayData    json.RawMessage
	Error          json.RawMessage
	Stdout         Output
	Stderr         Output
	Label          json.RawMessage // a label read from a 9.1 SQLite column; nil: the request metadata's (see label)

	seq  uint64 // insertion order, to break ties in history
	gone bool   // dropped or culled from its dictDB
}

// recordKeys are the keys of a record, in the order ipyparallel lists them.
var recordKeys = []string{"msg_id", "header", "content", "metadata", "buffers", "submitted", "client_uuid",
	"engine_uuid", "started", "completed", "resubmitted", "received", "result_header", "result_metadata",
	"result_content", "result_buffers", "queue", "execute_input", "execute_result", "display_data", "error",
	"stdout", "stderr", "label"}

func noneIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func rawOrNone(r json.RawMessage) any {
	if len(r) == 0 {
		return nil
	}
	return r
}

// field returns a key's value for JSON output (raw JSON parts are passed through).
func (r *Record) field(key string) any {
	switch key {
	case "msg_id":
		return r.MsgID
	case "header":
		return rawOrNone(r.Header)
	case "content":
		return rawOrNone(r.Content)
	case "metadata":
		return rawOrNone(r.Metadata)
	case "submitted":
		return noneIfEmpty(r.Submitted)
	case "client_uuid":
		return noneIfEmpty(r.ClientUUID)
	case "engine_uuid":
		return noneIfEmpty(r.EngineUUID)
	case "started":
		return noneIfEmpty(r.Started)
	case "completed":
		return noneIfEmpty(r.Completed)
	case "resubmitted":
		return noneIfEmpty(r.Resubmitted)
	case "received":
		return noneIfEmpty(r.Received)
	case "result_header":
		return rawOrNone(r.ResultHeader)
	case "result_metadata":
		return rawOrNone(r.ResultMetadata)
	case "result_content":
		return rawOrNone(r.ResultContent)
	case "queue":
		return noneIfEmpty(r.Queue)
	case "execute_input":
		if r.ExecuteInput == nil {
			return nil
		}
		return *r.ExecuteInput
	case "execute_result":
		return rawOrNone(r.ExecuteResult)
	case "display_data":
		return rawOrNone(r.DisplayData)
	case "error":
		return rawOrNone(r.Error)
	case "stdout":
		return r.Stdout.String()
	case "stderr":
		return r.Stderr.String()
	case "label":
		return rawOrNone(r.label())
	}
	return nil
}

// label is the task's label (ipyparallel 9.1's view.set_flags(label=...)): the request
// metadata's "label", unless one was read from a label column; nil is None.
func (r *Record) label() json.RawMessage {
	if r.Label != nil {
		return r.Label
	}
	return labelOf(r.Metadata)
}

// value returns a key's value as plain Go data, for query matching.
func (r *Record) value(key string) any {
	v := r.field(key)
	if raw, ok := v.(json.RawMessage); ok {
		var out any
		if json.Unmarshal(raw, &out) != nil {
			return nil
		}
		return out
	}
	return v
}

// sizeBytes is what counts toward the size limit: the record's buffers and its output
// (ipyparallel's DictDB counts buffers only; output can be far larger).
func (r *Record) sizeBytes() int64 {
	n := int64(r.Stdout.Len() + r.Stderr.Len())
	for _, b := range r.Buffers {
		n += int64(len(b))
	}
	for _, b := range r.ResultBuffers {
		n += int64(len(b))
	}
	return n
}

// errNoRecord is a missing or culled record; errCulled, from update, one culled for size.
var (
	errNoRecord = errors.New("no such record")
	errCulled   = fmt.Errorf("%w: culled for size", errNoRecord)
)

// store is the task-record database.
type store interface {
	keeps() bool // whether records are kept at all (false: NoDB)
	add(r *Record)
	get(msgID string) (*Record, error)
	lookup(msgID string) *Record // get without the error: nil when missing or culled
	update(msgID string, f func(*Record)) error
	find(q map[string]any) ([]*Record, error)
	drop(msgIDs []string)
	dropWhere(pred func(*Record) bool)
	history() ([]string, error)
	close() error // saves what is pending (SQLite) and releases the store
}

// dictDB keeps records in memory like ipyparallel's DictDB: at most recordLimit records and
// sizeLimit bytes of buffers and output; past either, the oldest tenth is culled (and remembered as culled).
type dictDB struct {
	records     map[string]*Record
	culled      map[string]bool
	order       []entry // records in insertion order, with stale entries (see live)
	recordLimit int
	sizeLimit   int64
	bytes       int64
	seq         uint64
}

// entry is a record as it was added; it is stale once the record is gone or added again.
type entry struct {
	r   *Record
	seq uint64
}

func (e entry) live() bool { return !e.r.gone && e.r.seq == e.seq }

func newDictDB(recordLimit int, sizeLimit int64) *dictDB {
	return &dictDB{records: map[string]*Record{}, culled: map[string]bool{}, recordLimit: recordLimit, sizeLimit: sizeLimit}
}

func (d *dictDB) add(r *Record) {
	if old, ok := d.records[r.MsgID]; ok {
		d.bytes -= old.sizeBytes()
		old.gone = true
	}
	d.seq++
	r.seq = d.seq
	r.gone = false
	d.records[r.MsgID] = r
	d.order = append(d.order, entry{r, r.seq})
	if len(d.order) > 2*len(d.records)+64 {
		d.compact()
	}
	delete(d.culled, r.MsgID)
	d.bytes += r.sizeBytes()
	d.cull()
}

// remove forgets a kept record.
func (d *dictDB) remove(r *Record) {
	d.bytes -= r.sizeBytes()
	delete(d.records, r.MsgID)
	r.gone = true
}

// compact drops stale entries from order.
func (d *dictDB) compact() {
	kept := d.order[:0]
	for _, e := range d.order {
		if e.live() {
			kept = append(kept, e)
		}
	}
	clear(d.order[len(kept):])
	d.order = kept
}

func (d *dictDB) get(msgID string) (*Record, error) {
	if d.culled[msgID] {
		return nil, fmt.Errorf("%w: record %q has been culled for size", errNoRecord, msgID)
	}
	r, ok := d.records[msgID]
	if !ok {
		return nil, fmt.Errorf("%w: no such msg_id %q", errNoRecord, msgID)
	}
	return r, nil
}

func (d *dictDB) keeps() bool { return true }

// lookup is get for internal use. A record is never both kept and culled (add forgets the
// culling, cull deletes the record), so the map says it all.
func (d *dictDB) lookup(msgID string) *Record { return d.records[msgID] }

func (d *dictDB) update(msgID string, f func(*Record)) error {
	r := d.lookup(msgID)
	if r == nil {
		if d.culled[msgID] {
			return errCulled
		}
		return errNoRecord
	}
	before := r.sizeBytes()
	f(r)
	d.bytes += r.sizeBytes() - before
	d.cull()
	return nil
}

func (d *dictDB) find(q map[string]any) ([]*Record, error) {
	m, err := compileQuery(q)
	if err != nil {
		return nil, err
	}
	var out []*Record
	for _, r := range d.ordered() {
		if m(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (d *dictDB) drop(msgIDs []string) {
	for _, id := range msgIDs {
		if r, ok := d.records[id]; ok {
			d.remove(r)
		}
	}
}

func (d *dictDB) dropWhere(pred func(*Record) bool) {
	for _, r := range d.records {
		if pred(r) {
			d.remove(r)
		}
	}
}

func (d *dictDB) close() error { return nil }

func (d *dictDB) history() ([]string, error) {
	var ids []string
	for _, r := range d.ordered() {
		if r.Submitted != "" {
			ids = append(ids, r.MsgID)
		}
	}
	return ids, nil
}

// ordered lists records by submission time (insertion order breaks ties and places records
// that have no submission time yet). Records are kept in insertion order, which is
// usually already sorted: then no sort is needed.
func (d *dictDB) ordered() []*Record {
	d.compact()
	out := make([]*Record, len(d.order))
	for i, e := range d.order {
		out[i] = e.r
	}
	less := func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Submitted != b.Submitted && a.Submitted != "" && b.Submitted != "" {
			return a.Submitted < b.Submitted
		}
		return a.seq < b.seq
	}
	if !sort.SliceIsSorted(out, less) {
		sort.Slice(out, less)
	}
	return out
}

func (d *dictDB) cull() {
	overCount := len(d.records) > d.recordLimit
	if !overCount && d.bytes <= d.sizeLimit {
		return
	}
	ordered := d.ordered()
	n := 0
	if overCount {
		n = max(1, d.recordLimit/10)
	}
	limit := d.sizeLimit - d.sizeLimit/10
	for i, r := range ordered {
		if i >= n && d.bytes <= limit {
			break
		}
		d.culled[r.MsgID] = true
		d.remove(r)
	}
}

// noDB stores nothing (--nodb), like ipyparallel's NoDB.
type noDB struct{}

var errNoDB = errors.New("NoDB does not store information about messages")

func (noDB) keeps() bool           { return false }
func (noDB) lookup(string) *Record { return nil }
func (noDB) add(*Record)           {}
func (noDB) get(string) (*Record, error) {
	return nil, fmt.Errorf("%w: NoDB does not support record access", errNoRecord)
}
func (noDB) update(string, func(*Record)) error     { return nil }
func (noDB) find(map[string]any) ([]*Record, error) { return nil, errNoDB }
func (noDB) drop([]string)                          {}
func (noDB) dropWhere(func(*Record) bool)           {}
func (noDB) history() ([]string, error)             { return nil, errNoDB }
func (noDB) close() error                           { return nil }
