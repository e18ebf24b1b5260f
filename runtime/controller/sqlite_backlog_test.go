package controller

import (
	"fmt"
	"strings"
	"testing"
)

func backlogIDs(recs []*Record) string {
	var out []string
	for _, r := range recs {
		out = append(out, r.MsgID+"="+r.EngineUUID)
	}
	return strings.Join(out, " ")
}

// The backlog keeps the order of changes: a record deleted and added again comes back, a
// newer snapshot hides an older one, and committing it part by part leaves what is left.
func TestSQLiteBacklogOrderAndParts(t *testing.T) {
	k := sqliteBacklog{maxRecords: 100, maxBytes: 1 << 30}
	rec := func(id, v string) Record { return Record{MsgID: id, EngineUUID: v} }
	k.keep([]sqliteBatch{
		{upserts: []Record{rec("a", "1"), rec("b", "1")}, deletes: []string{"a", "gone"}},
		{upserts: []Record{rec("a", "2"), rec("c", "1"), rec("c", "2")}},
	})
	recs, deleted := k.snapshot()
	if got := backlogIDs(recs); got != "b=1 a=2 c=2" {
		t.Errorf("snapshot = %s", got)
	}
	if !deleted["gone"] || deleted["a"] {
		t.Errorf("deleted = %v", deleted)
	}
	if r, del := k.lookup("a"); r == nil || r.EngineUUID != "2" || del {
		t.Errorf("lookup(a) = %v, %v", r, del)
	}
	if _, del := k.lookup("gone"); !del {
		t.Error("lookup(gone): not deleted")
	}

	var parts []string
	for k.pending.Load() {
		slots, recs, dels := k.front(2)
		parts = append(parts, fmt.Sprintf("[%s|%s]", backlogIDs(recs), strings.Join(dels, ",")))
		k.written(slots, recs, dels)
		if len(parts) == 2 { // b=1 is on disk; a=2 and c=2 still wait
			if r, _ := k.lookup("b"); r != nil {
				t.Errorf("b still served from the backlog after it was written")
			}
			if r, _ := k.lookup("a"); r == nil || r.EngineUUID != "2" {
				t.Errorf("lookup(a) after a=1 was written = %v", r)
			}
		}
	}
	if got := strings.Join(parts, " "); got != "[a=1 b=1|] [|a,gone] [a=2 c=2|]" {
		t.Errorf("parts committed = %s", got)
	}
	if recs, deleted := k.snapshot(); recs != nil || deleted != nil {
		t.Errorf("an empty backlog still has %v %v", recs, deleted)
	}
}

// Past its bounds the backlog drops its oldest records and says how many.
func TestSQLiteBacklogBounds(t *testing.T) {
	k := sqliteBacklog{maxRecords: 3, maxBytes: 1 << 30}
	var batch sqliteBatch
	for i := range 5 {
		batch.upserts = append(batch.upserts, Record{MsgID: fmt.Sprint("r", i)})
	}
	if dropped := k.keep([]sqliteBatch{batch}); dropped != 2 {
		t.Errorf("dropped %d, want 2", dropped)
	}
	recs, _ := k.snapshot()
	if got := backlogIDs(recs); got != "r2= r3= r4=" {
		t.Errorf("kept %s", got)
	}
	// a newer snapshot of a dropped record takes its old place again
	k.keep([]sqliteBatch{{upserts: []Record{{MsgID: "r0", EngineUUID: "new"}}}})
	recs, _ = k.snapshot()
	if got := backlogIDs(recs); got != "r3= r4= r0=new" {
		t.Errorf("after r0 came back: %s", got)
	}

	k = sqliteBacklog{maxRecords: 100, maxBytes: 3000}
	big := Record{MsgID: "big", Content: make([]byte, 2000)}
	if dropped := k.keep([]sqliteBatch{{upserts: []Record{big, {MsgID: "small"}}}}); dropped != 1 {
		t.Errorf("byte bound: dropped %d, want 1", dropped)
	}
}
