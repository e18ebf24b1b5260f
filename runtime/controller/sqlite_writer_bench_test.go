package controller

import (
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkSQLiteWriter is the writer's cost per record (one goroutine, batches of
// sqliteBatchRecords): "once" writes each task complete, "twice" first as a request, then
// complete (a task that ran longer than sqliteHoldIncomplete).
func BenchmarkSQLiteWriter(b *testing.B) {
	hdr := json.RawMessage(`{"msg_id":"x","msg_type":"apply_request","session":"s","username":"u","date":"2026-01-01T00:00:00.000000Z","version":"5.3"}`)
	request := func(i int) Record {
		return Record{MsgID: fmt.Sprintf("%08d-task", i), Header: hdr, Content: json.RawMessage(`{}`), Metadata: json.RawMessage(`{"after":[],"follow":[]}`),
			Buffers: [][]byte{make([]byte, 120), make([]byte, 40)}, Submitted: stamp(1), ClientUUID: "c", Queue: "task"}
	}
	complete := func(r Record) Record {
		r.EngineUUID = "e"
		completeRecord(&r, 2, "ok")
		r.ResultBuffers = [][]byte{make([]byte, 30)}
		return r
	}
	for _, twice := range []bool{false, true} {
		name := map[bool]string{false: "once", true: "twice"}[twice]
		b.Run(name, func(b *testing.B) {
			d, err := openSQLiteDB(SQLiteSettings{}, b.TempDir(), quietLog, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer d.close()
			w := d.writer
			b.ResetTimer()
			for start := 0; start < b.N; start += sqliteBatchRecords {
				n := min(sqliteBatchRecords, b.N-start)
				var first, second []Record
				for i := start; i < start+n; i++ {
					r := request(i)
					if twice {
						first = append(first, r)
					}
					second = append(second, complete(r))
				}
				if twice {
					if err := w.commit([]sqliteBatch{{upserts: first}}); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.commit([]sqliteBatch{{upserts: second}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
