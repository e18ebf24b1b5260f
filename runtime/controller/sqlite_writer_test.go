package controller

import (
	"fmt"
	"strings"
	"testing"
)

// One transaction of several batches: a record changed in two of them is saved as its last
// snapshot in the place of its first, a record deleted in between and added again comes
// back as the later one, and more records than one INSERT carries are all saved.
func TestSQLiteWriterGroup(t *testing.T) {
	d, err := openSQLiteDB(SQLiteSettings{}, t.TempDir(), quietLog, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	rec := func(id, engine string) Record {
		return Record{MsgID: id, Submitted: stamp(1), EngineUUID: engine, Queue: "task"}
	}
	var many []Record
	for i := range sqliteRowsPerInsert + 3 {
		many = append(many, rec(fmt.Sprintf("m%02d", i), "e"))
	}
	group := []sqliteBatch{
		{upserts: []Record{rec("a", "e1"), rec("b", "e1")}},
		{upserts: []Record{rec("b", "e2")}, deletes: []string{"a"}},
		{upserts: append([]Record{rec("a", "e3"), rec("b", "e4")}, many...)},
	}
	if err := d.writer.commit(group); err != nil {
		t.Fatal(err)
	}
	rows, err := d.all(nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.rec.MsgID+"="+r.rec.EngineUUID)
	}
	want := []string{"b=e4", "a=e3"}
	for _, r := range many {
		want = append(want, r.MsgID+"=e")
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("rows in insertion order:\n got %v\nwant %v", got, want)
	}
}
