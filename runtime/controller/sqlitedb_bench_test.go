package controller

import (
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkRecordStore is the Hub's work per task on each store: add the request, note the
// engine, file the result (the writer's commits included, by a close at the end).
func BenchmarkRecordStore(b *testing.B) {
	for _, mk := range storeMakers() {
		b.Run(mk.name, func(b *testing.B) {
			s := mk.open(&testing.T{}, b.TempDir())
			hdr := json.RawMessage(`{"msg_id":"x","msg_type":"apply_request","session":"s","username":"u","date":"2026-01-01T00:00:00.000000Z","version":"5.3"}`)
			b.ResetTimer()
			for i := range b.N {
				id := fmt.Sprintf("%08d-task", i)
				s.add(&Record{MsgID: id, Header: hdr, Content: json.RawMessage(`{}`), Metadata: json.RawMessage(`{"after":[],"follow":[]}`),
					Buffers: [][]byte{make([]byte, 120), make([]byte, 40)}, Submitted: stamp(1), ClientUUID: "c", Queue: "task"})
				s.update(id, func(r *Record) { r.EngineUUID = "e" })
				s.update(id, func(r *Record) {
					completeRecord(r, 2, "ok")
					r.ResultBuffers = [][]byte{make([]byte, 30)}
				})
			}
			s.close()
		})
	}
}
