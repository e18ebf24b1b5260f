package controller

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func TestDependencySemantics(t *testing.T) {
	completed := stringSet{"ok1": {}, "ok2": {}}
	failed := stringSet{"bad": {}}
	cases := []struct {
		raw              string
		met, unreachable bool
	}{
		{`null`, true, false},
		{`["ok1","ok2"]`, true, false},
		{`["ok1","pending"]`, false, false},
		{`["ok1","bad"]`, false, true},
		{`{"dependencies":["bad"],"success":false,"failure":true}`, true, false},
		{`{"dependencies":["ok1"],"success":false,"failure":true}`, false, true},
		{`{"dependencies":["bad","pending"],"all":false}`, false, false},
		{`{"dependencies":["bad","ok1"],"all":false}`, true, false},
		{`{"dependencies":["bad"],"all":false}`, false, true},
		{`{"dependencies":["ok1","bad"],"success":true,"failure":true}`, true, false},
	}
	for _, c := range cases {
		d, err := parseDependency(json.RawMessage(c.raw))
		if err != nil {
			t.Fatalf("%s: %v", c.raw, err)
		}
		if got := d.met(completed, failed); got != c.met {
			t.Errorf("%s: met = %v", c.raw, got)
		}
		if got := d.unreachable(completed, failed); got != c.unreachable {
			t.Errorf("%s: unreachable = %v", c.raw, got)
		}
	}
	if _, err := parseDependency(json.RawMessage(`42`)); err == nil {
		t.Error("a number was accepted as a dependency")
	}
}

func TestDBQueryOperators(t *testing.T) {
	db := newDictDB(100, 1<<20)
	for i, r := range []*Record{
		{MsgID: "a", Submitted: "2026-11-21T05:00:00.000000Z", Completed: "2026-11-21T05:00:01.000000Z", EngineUUID: "e0", Stdout: outputOf("x")},
		{MsgID: "b", Submitted: "2026-11-21T05:00:02.000000Z", EngineUUID: "e1", Metadata: json.RawMessage(`{"tags":[1,2,3]}`)},
		{MsgID: "c", Submitted: "2026-11-21T05:00:04.000000Z", Completed: "2026-11-21T05:00:05.000000Z", EngineUUID: "e0"},
	} {
		_ = i
		db.add(r)
	}
	cases := []struct {
		query string
		want  string
	}{
		{`{}`, "abc"},
		{`{"msg_id":"b"}`, "b"},
		{`{"engine_uuid":{"$ne":"e0"}}`, "b"},
		{`{"submitted":{"$gt":"2026-11-21T05:00:01Z"}}`, "bc"},
		{`{"submitted":{"$lt":"2026-11-21T05:00:03+00:00"}}`, "ab"},
		{`{"submitted":{"$gte":"2026-11-21T05:00:02.000000Z","$lte":"2026-11-21T05:00:04Z"}}`, "bc"},
		{`{"msg_id":{"$in":["a","c","z"]}}`, "ac"},
		{`{"msg_id":{"$nin":["a"]}}`, "bc"},
		{`{"completed":{"$exists":false}}`, "b"},
		{`{"completed":{"$exists":true},"engine_uuid":"e0"}`, "ac"},
		{`{"metadata":{"$eq":{"tags":[1,2,3]}}}`, "b"},
	}
	for _, c := range cases {
		var q map[string]any
		json.Unmarshal([]byte(c.query), &q)
		recs, err := db.find(q)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		got := ""
		for _, r := range recs {
			got += r.MsgID
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.query, got, c.want)
		}
	}
	if _, err := db.find(map[string]any{"x": map[string]any{"$regex": "a"}}); err == nil {
		t.Error("unknown operator accepted")
	}
	mod, _ := operator("$mod", []any{3.0, 1.0})
	if !mod(7.0) || mod(6.0) || !mod(-2.0) {
		t.Error("$mod does not follow Python's modulo")
	}
	all, _ := operator("$all", []any{1.0, 3.0})
	if !all([]any{3.0, 2.0, 1.0}) || all([]any{1.0}) {
		t.Error("$all")
	}
}

func TestDictDBCullsOldestAndRemembers(t *testing.T) {
	db := newDictDB(10, 100)
	for i := range 11 {
		db.add(&Record{MsgID: string(rune('a' + i)), Submitted: "2026-11-21T05:00:" + string(rune('0'+i/10)) + string(rune('0'+i%10)) + ".000000Z"})
	}
	if len(db.records) != 10 {
		t.Fatalf("%d records kept, want 10 after culling one tenth of 10", len(db.records))
	}
	if _, err := db.get("a"); err == nil || !contains([]string{err.Error()}, err.Error()) {
		t.Fatal("oldest record not culled")
	} else if got := err.Error(); got != `no such record: record "a" has been culled for size` {
		t.Errorf("culled error %q", got)
	}
	db.add(&Record{MsgID: "big", Submitted: "2026-11-21T06:00:00.000000Z", Buffers: [][]byte{make([]byte, 95)}})
	db.add(&Record{MsgID: "big2", Submitted: "2026-11-21T06:00:01.000000Z", Buffers: [][]byte{make([]byte, 50)}})
	if db.bytes > 100 {
		t.Errorf("%d buffer bytes kept, limit 100", db.bytes)
	}
	if _, err := db.get("big2"); err != nil {
		t.Errorf("newest record culled: %v", err)
	}
}

func TestPyRepr(t *testing.T) {
	for in, want := range map[string]string{"abc": "'abc'", "it's": `"it's"`, `a'b"c`: `'a\'b"c'`} {
		if got := pyRepr(in); got != want {
			t.Errorf("pyRepr(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestDictDBOrderMatchesASort checks the insertion-ordered index against sorting every kept
// record, through out-of-order submission times, re-added ids, drops and culls.
func TestDictDBOrderMatchesASort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	db := newDictDB(50, 1<<20)
	for i := range 2000 {
		id := strconv.Itoa(rng.IntN(300))
		sec := i / 3
		if rng.IntN(10) == 0 {
			sec -= rng.IntN(20) // a client with a slow clock
		}
		db.add(&Record{MsgID: id, Submitted: fmt.Sprintf("2026-11-21T05:%02d:%02d.000000Z", sec/60%60, sec%60)})
		switch rng.IntN(20) {
		case 0:
			db.drop([]string{strconv.Itoa(rng.IntN(300))})
		case 1:
			db.dropWhere(func(r *Record) bool { return r.MsgID[0] == '7' })
		}
		want := make([]*Record, 0, len(db.records))
		for _, r := range db.records {
			want = append(want, r)
		}
		sort.Slice(want, func(i, j int) bool {
			a, b := want[i], want[j]
			if a.Submitted != b.Submitted {
				return a.Submitted < b.Submitted
			}
			return a.seq < b.seq
		})
		got := db.ordered()
		if len(got) != len(want) {
			t.Fatalf("step %d: %d ordered records, %d kept", i, len(got), len(want))
		}
		for k := range got {
			if got[k] != want[k] {
				t.Fatalf("step %d: record %d is %s, want %s", i, k, got[k].MsgID, want[k].MsgID)
			}
		}
		if len(db.records) > 50 {
			t.Fatalf("step %d: %d records kept, limit 50", i, len(db.records))
		}
	}
}

func outputOf(s string) Output {
	var o Output
	o.Append(s)
	return o
}

// TestDictDBCountsOutput: stdout and stderr count toward the size limit, so a task that
// prints a lot is culled like one with large buffers, and its later output is dropped
// rather than kept in a new record.
func TestDictDBCountsOutput(t *testing.T) {
	db := newDictDB(100, 1000)
	db.add(&Record{MsgID: "old", Submitted: "2026-11-21T05:00:00.000000Z"})
	db.add(&Record{MsgID: "chatty", Submitted: "2026-11-21T05:00:01.000000Z"})
	line := strings.Repeat("x", 99) + "\n"
	for range 5 {
		if err := db.update("chatty", func(r *Record) { r.Stdout.Append(line); r.Stderr.Append(line) }); err != nil {
			t.Fatal(err)
		}
	}
	if db.bytes != 1000 {
		t.Errorf("%d bytes counted, want 1000 (500 of stdout, 500 of stderr)", db.bytes)
	}
	if r, _ := db.get("chatty"); r == nil || r.field("stdout") != strings.Repeat(line, 5) {
		t.Fatalf("stdout not kept whole: %v", r)
	}
	err := db.update("chatty", func(r *Record) { r.Stdout.Append(line) })
	if err != nil {
		t.Fatal(err)
	}
	if db.bytes > 1000 {
		t.Errorf("%d bytes kept over the limit of 1000", db.bytes)
	}
	if _, err := db.get("chatty"); err == nil {
		t.Error("a record whose output passed the size limit was not culled")
	}
	if err := db.update("chatty", func(r *Record) { r.Stdout.Append(line) }); !errors.Is(err, errCulled) {
		t.Errorf("update of a culled record: %v, want errCulled", err)
	}
}
