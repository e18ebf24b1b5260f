package controller

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The record-store conformance suite: every store that keeps records (the in-memory DictDB
// and SQLite) must give the same answers to the same operations and queries.

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

type storeMaker struct {
	name string
	open func(t *testing.T, dir string) store
}

func storeMakers() []storeMaker {
	return []storeMaker{
		{"DictDB", func(*testing.T, string) store { return newDictDB(1<<20, 1<<40) }},
		{"SQLiteDB", func(t *testing.T, dir string) store {
			d, err := openSQLiteDB(SQLiteSettings{}, dir, quietLog, nil)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}},
		{"SQLiteDB-9.1-table", func(t *testing.T, dir string) store {
			makeTable(t, filepath.Join(dir, "tasks.db"), "ipython-tasks", layoutWithLabel)
			d, err := openSQLiteDB(SQLiteSettings{}, dir, quietLog, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !d.layout.hasLabel() {
				t.Fatal("the 9.1 table (with a label column) was not used as it is")
			}
			return d
		}},
	}
}

// makeTable creates table in the SQLite file path with layout, as a Python controller of
// that layout would, unless it is there.
func makeTable(t *testing.T, path, table string, layout sqliteLayout) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := createTable(db, table, layout); err != nil {
		t.Fatal(err)
	}
}

func stamp(sec int) string { return fmt.Sprintf("2026-01-01T00:00:%02d.000000Z", sec) }

func strPtr(s string) *string { return &s }

// conformanceRecords are the records the suite starts from, added in this order (so
// submission order and insertion order differ).
func conformanceRecords() []*Record {
	recs := []*Record{
		{MsgID: "a", Submitted: stamp(3), ClientUUID: "c1", EngineUUID: "e1", Queue: "task",
			Header:  json.RawMessage(`{"msg_id":"a","msg_type":"apply_request","date":"2026-01-01T00:00:03.000000Z"}`),
			Content: json.RawMessage(`{}`), Metadata: json.RawMessage(`{"targets":[0],"label":"group_a/x"}`),
			Buffers: [][]byte{[]byte("fn"), {}, {}, []byte(strings.Repeat("x", 300))}},
		{MsgID: "b", Submitted: stamp(1), ClientUUID: "c1", EngineUUID: "e2", Queue: "mux", Header: json.RawMessage(`{"msg_id":"b"}`)},
		{MsgID: "c", Submitted: stamp(2), ClientUUID: "c2", Queue: "task", Header: json.RawMessage(`{"msg_id":"c"}`),
			Metadata: json.RawMessage(`{"label":"group_b"}`)},
		{MsgID: "d", ClientUUID: "c2"}, // output that came before its request: no submission time
		{MsgID: "e", Submitted: stamp(5), ClientUUID: "c2", EngineUUID: "e1", Queue: "task",
			Header: json.RawMessage(`{"msg_id":"e"}`), ExecuteInput: strPtr("x = 1"),
			Metadata: json.RawMessage(`{"label":"label*task","after":[]}`)},
	}
	recs[3].Stdout.Append("early\n")
	return recs
}

// completeRecord fills a result as the Hub does.
func completeRecord(r *Record, sec int, status string) {
	r.Started, r.Completed, r.Received = stamp(sec), stamp(sec+1), stamp(sec+2)
	r.ResultHeader = json.RawMessage(`{"msg_type":"apply_reply"}`)
	r.ResultContent = json.RawMessage(`{"status":"` + status + `"}`)
	r.ResultMetadata = json.RawMessage(`{"status":"` + status + `"}`)
	r.ResultBuffers, r.resultBufsSet = [][]byte{[]byte("result")}, true
}

// fillConformance adds the records and changes some, as a session does.
func fillConformance(t *testing.T, s store) {
	t.Helper()
	for _, r := range conformanceRecords() {
		s.add(r)
	}
	steps := []struct {
		id string
		f  func(*Record)
	}{
		{"a", func(r *Record) { completeRecord(r, 10, "ok"); r.Stdout.Append("hello\n"); r.Stdout.Append("world\n") }},
		{"b", func(r *Record) {
			completeRecord(r, 11, "error")
			r.Error = json.RawMessage(`{"ename":"ZeroDivisionError","evalue":"division by zero"}`)
			r.Stderr.Append("oops\n")
		}},
		{"e", func(r *Record) {
			completeRecord(r, 12, "ok")
			r.ExecuteResult = json.RawMessage(`{"data":{"text/plain":"1"},"execution_count":1}`)
		}},
		{"c", func(r *Record) { r.Resubmitted = "f" }},
	}
	for _, st := range steps {
		if err := s.update(st.id, st.f); err != nil {
			t.Fatalf("update %s: %v", st.id, err)
		}
	}
}

// dumpRecord is a record as db_query shows it, with its buffers.
func dumpRecord(r *Record) map[string]any {
	m := map[string]any{}
	for _, k := range recordKeys {
		if k == "display_data" { // no column in ipyparallel's SQLite layout
			continue
		}
		v := r.field(k)
		if raw, ok := v.(json.RawMessage); ok {
			v = string(raw)
		}
		m[k] = v
	}
	m["buffers"], m["result_buffers"] = fmt.Sprint(r.Buffers), fmt.Sprint(r.ResultBuffers)
	return m
}

func ids(recs []*Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.MsgID)
	}
	return out
}

func parseQuery(t *testing.T, q string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(q), &m); err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	return m
}

// conformanceQueries: a query as a client sends it, and the msg_ids it finds in order
// (submission time, then insertion order for records without one), or "error".
var conformanceQueries = []struct{ query, want string }{
	{`{}`, "b c a d e"},
	{`{"msg_id": "a"}`, "a"},
	{`{"msg_id": "zz"}`, ""},
	{`{"msg_id": {"$in": ["a", "d", "zz"]}}`, "a d"},
	{`{"msg_id": {"$nin": ["a", "b"]}}`, "c d e"},
	{`{"engine_uuid": "e1"}`, "a e"},
	{`{"engine_uuid": null}`, "c d"},
	{`{"engine_uuid": "e1", "queue": "task"}`, "a e"},
	{`{"queue": {"$ne": "task"}}`, "b d"},
	{`{"queue": {"$eq": "mux"}}`, "b"},
	{`{"completed": {"$exists": true}}`, "b a e"},
	{`{"completed": {"$exists": false}}`, "c d"},
	{`{"submitted": {"$lt": "2026-01-01T00:00:03.000000Z"}}`, "b c"},
	{`{"submitted": {"$lte": "2026-01-01T00:00:03+00:00"}}`, "b c a"},
	{`{"submitted": {"$gt": "2026-01-01T00:00:01.000000Z", "$lt": "2026-01-01T00:00:05.000000Z"}}`, "c a"},
	{`{"submitted": {"$gte": "2026-01-01T00:00:05.000000Z"}}`, "e"},
	{`{"stdout": "hello\nworld\n"}`, "a"},
	{`{"stderr": {"$ne": ""}}`, "b"},
	{`{"execute_input": "x = 1"}`, "e"},
	{`{"resubmitted": {"$exists": true}}`, "c"},
	{`{"client_uuid": {"$in": ["c2"]}, "submitted": {"$exists": true}}`, "c e"},
	{`{"result_content": {"$eq": {"status": "error"}}}`, "b"},
	{`{"header": {"$all": ["msg_id"]}}`, ""},
	{`{"submitted": {"$mod": [2, 0]}}`, ""},
	{`{"submitted": {"$mod": [0, 1]}}`, "error"},
	{`{"msg_id": {"$in": "a"}}`, "error"},
	{`{"msg_id": {"$regex": "a"}}`, "error"},
	// labels (ipyparallel 9.1): a "group_a/x", c "group_b", e "label*task", b and d none
	{`{"label": "group_b"}`, "c"},
	{`{"label": {"$eq": "group_a/x"}}`, "a"},
	{`{"label": null}`, "b d"},
	{`{"label": {"$ne": "group_b"}}`, "b a d e"},
	{`{"label": {"$in": ["group_b", "label*task", "zz"]}}`, "c e"},
	{`{"label": {"$nin": [""]}}`, "b c a d e"}, // None is not in [""], as in DictDB
	{`{"label": {"$nin": ["group_b", null]}}`, "a e"},
	{`{"label": {"$exists": true}}`, "c a e"},
	{`{"label": {"$exists": false}}`, "b d"},
	{`{"label": {"$lt": "group_b"}}`, "a"},
	{`{"label": {"$gte": "group_b"}}`, "c e"},
	{`{"label": {"$gt": "group", "$lte": "group_b"}}`, "c a"},
	{`{"label": {"$glob": "group_*"}}`, "c a"},
	{`{"label": {"$glob": "*/x"}}`, "a"},
	{`{"label": {"$glob": "group_?"}}`, "c"},
	{`{"label": {"$glob": "group_[!b]*"}}`, "a"},
	{`{"label": {"$glob": "*[*]*"}}`, "e"},
	{`{"label": {"$glob": "*[?]*"}}`, ""},
	{`{"label": {"$glob": "label*task"}}`, "e"},
	{`{"label": {"$glob": "group_[b-a]"}}`, "error"},
	{`{"label": {"$glob": 5}}`, "error"},
	{`{"label": {"$exists": true}, "queue": "task"}`, "c a e"},
}

func TestRecordStoreConformance(t *testing.T) {
	var reference []map[string]any
	for _, mk := range storeMakers() {
		t.Run(mk.name, func(t *testing.T) {
			dir := t.TempDir()
			s := mk.open(t, dir)
			defer s.close()
			if !s.keeps() {
				t.Fatal("keeps() = false")
			}
			fillConformance(t, s)
			check := func(t *testing.T, s store) {
				for _, q := range conformanceQueries {
					recs, err := s.find(parseQuery(t, q.query))
					got := strings.Join(ids(recs), " ")
					if err != nil {
						got = "error"
					}
					if got != q.want {
						t.Errorf("find(%s) = %q (err %v), want %q", q.query, got, err, q.want)
					}
				}
				hist, err := s.history()
				if err != nil || strings.Join(hist, " ") != "b c a e" {
					t.Errorf("history() = %v, %v; want [b c a e]", hist, err)
				}
				r, err := s.get("a")
				if err != nil || r.Stdout.String() != "hello\nworld\n" || len(r.Buffers) != 4 || string(r.Buffers[3]) != strings.Repeat("x", 300) {
					t.Errorf("get(a) = %+v, %v", r, err)
				}
				if _, err := s.get("zz"); !errors.Is(err, errNoRecord) {
					t.Errorf("get(zz) error = %v, want errNoRecord", err)
				}
				if s.lookup("zz") != nil || s.lookup("b") == nil {
					t.Error("lookup of zz and b wrong")
				}
				if err := s.update("zz", func(*Record) {}); !errors.Is(err, errNoRecord) {
					t.Errorf("update(zz) error = %v, want errNoRecord", err)
				}
			}
			check(t, s)
			all, _ := s.find(map[string]any{})
			var dump []map[string]any
			for _, r := range all {
				dump = append(dump, dumpRecord(r))
			}
			if reference == nil {
				reference = dump
			} else if !reflect.DeepEqual(dump, reference) {
				t.Errorf("records differ from DictDB's:\n got %v\nwant %v", dump, reference)
			}

			if d, ok := s.(*sqliteDB); ok { // a new controller on the same file sees it all
				if err := d.close(); err != nil {
					t.Fatal(err)
				}
				s = mk.open(t, dir)
				defer s.close()
				check(t, s)
				all, _ := s.find(map[string]any{})
				for i, r := range all {
					if i < len(reference) && !reflect.DeepEqual(dumpRecord(r), reference[i]) {
						t.Errorf("reopened record %s differs:\n got %v\nwant %v", r.MsgID, dumpRecord(r), reference[i])
					}
				}
			}

			s.drop([]string{"b", "zz"})
			s.dropWhere(func(r *Record) bool { return r.EngineUUID == "e1" && r.Completed != "" })
			recs, _ := s.find(map[string]any{})
			if got := strings.Join(ids(recs), " "); got != "c d" {
				t.Errorf("after drop(b) and dropping e1's completed: %q, want \"c d\"", got)
			}
			if _, err := s.get("b"); !errors.Is(err, errNoRecord) {
				t.Errorf("get of a dropped record: %v", err)
			}
			s.add(&Record{MsgID: "b", Submitted: stamp(9)})
			if hist, _ := s.history(); strings.Join(hist, " ") != "c b" {
				t.Errorf("history after re-adding b = %v, want [c b]", hist)
			}
		})
	}
}

// A file that is not SQLite is refused with the path and what to do; a table of another
// layout is left alone and a new one is used beside it, as ipyparallel does.
func TestSQLiteBadAndForeignFiles(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "tasks.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := openSQLiteDB(SQLiteSettings{}, dir, quietLog, nil)
	if err == nil || !strings.Contains(err.Error(), junk) || !strings.Contains(err.Error(), "not an SQLite database") ||
		!strings.Contains(err.Error(), "c.SQLiteDB.filename") {
		t.Fatalf("junk file: err = %v", err)
	}

	foreign := SQLiteSettings{Filename: "foreign.db"}
	d, err := openSQLiteDB(foreign, dir, quietLog, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.db.Exec(`CREATE TABLE "other" (msg_id text, payload blob)`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.db.Exec(`INSERT INTO "other" VALUES ('x', x'00')`); err != nil {
		t.Fatal(err)
	}
	d.close()
	foreign.Table = "other"
	d, err = openSQLiteDB(foreign, dir, quietLog, nil)
	if err != nil {
		t.Fatalf("table of another layout: %v", err)
	}
	defer d.close()
	if d.table != "other_1" {
		t.Errorf("table = %q, want other_1", d.table)
	}
	d.add(&Record{MsgID: "y", Submitted: stamp(1)})
	if hist, err := d.history(); err != nil || len(hist) != 1 || hist[0] != "y" {
		t.Errorf("history = %v, %v", hist, err)
	}
	var n int
	if err := d.db.QueryRow(`SELECT count(*) FROM "other"`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the foreign table was touched: %d rows, %v", n, err)
	}

	// A row whose buffers are not a pickled list: that query fails with an error, no crash.
	if _, err := d.db.Exec(`INSERT INTO "other_1" (msg_id, buffers) VALUES ('bad', x'0102')`); err != nil {
		t.Fatal(err)
	}
	d.seen.add("bad")
	if _, err := d.get("bad"); err == nil || !strings.Contains(err.Error(), "buffers") {
		t.Errorf("get of a bad row: %v", err)
	}
	if _, err := d.find(map[string]any{}); err == nil {
		t.Error("find over a bad row: no error")
	}
}

func TestPickledBuffersRoundTrip(t *testing.T) {
	for _, bufs := range [][][]byte{{[]byte("a")}, {{}, {}, []byte("b")}, {make([]byte, 70000)}} {
		got, err := unpickleBuffers(pickleBuffers(bufs))
		if err != nil || !reflect.DeepEqual(got, bufs) {
			t.Errorf("round trip of %d buffers: %v, %v", len(bufs), len(got), err)
		}
	}
	if pickleBuffers(nil) != nil {
		t.Error("no buffers should be NULL")
	}
	// What Python 3.11 writes for [b'ab', b'', b''] with protocol 5 (framed, memoized).
	py := []byte("\x80\x05\x95\x12\x00\x00\x00\x00\x00\x00\x00]\x94(C\x02ab\x94C\x00\x94h\x02e.")
	got, err := unpickleBuffers(py)
	if err != nil || !reflect.DeepEqual(got, [][]byte{[]byte("ab"), {}, {}}) {
		t.Errorf("python pickle: %q, %v", got, err)
	}
	for _, bad := range []string{"", "\x80\x05", "\x80\x04}.", "\x80\x04](K\x01e."} {
		if _, err := unpickleBuffers([]byte(bad)); err == nil {
			t.Errorf("unpickle %q: no error", bad)
		}
	}
}
