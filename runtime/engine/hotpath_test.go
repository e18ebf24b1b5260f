package engine

import (
	"testing"

	"ipcluster/profiles"
	"ipcluster/runtime/wire"
)

// benchKey is the HMAC key of the in-memory engines of these tests and benchmarks.
const benchKey = "5f2cd0b4-6e7a0b1c2d3e4f5061728394"

// memEngine is an engine that is registered (id 0) but has no sockets: what it sends is
// handed to sent instead.
func memEngine(tb testing.TB, sent func(frames [][]byte)) *Engine {
	tb.Helper()
	info := profiles.EngineInfo{Interface: "tcp://127.0.0.1", Registration: 1, Control: 2, Mux: 3, Task: 4, IOPub: 5,
		HBPing: 6, HBPong: 7, Broadcast: []int{8}, Key: benchKey, SignatureScheme: "hmac-sha256"}
	e, err := New(Config{Info: info, UUID: "777adb3d-903d8766d586eb7cd7f749e1", WorkDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	e.id.Store(0)
	e.registered = true
	e.transmit = func(_ sender, frames [][]byte) error {
		sent(frames)
		return nil
	}
	return e
}

// clientRequests makes n execute requests as the Go client sends them through the task
// scheduler (routing identities task_out and the client's zid), signed with benchKey.
func clientRequests(tb testing.TB, s *wire.Session, n int, code string, silent bool) [][][]byte {
	tb.Helper()
	out := make([][][]byte, n)
	for i := range out {
		md := map[string]any{"after": []string{}, "follow": []string{}, "timeout": 0.0, "targets": []string{}, "retries": 0}
		content := map[string]any{"code": code, "silent": silent, "store_history": false,
			"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": false}
		frames, err := s.Serialize(&wire.Message{Idents: [][]byte{[]byte("task_out"), {0, 0x6b, 0x8b, 0x45, 0x67}},
			Header: s.NewHeader("execute_request"), Metadata: md, Content: content})
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = frames
	}
	return out
}

// BenchmarkShellRequest is the engine's Go work for one empty-code task, sockets aside:
// decode the request, publish busy, reply, publish idle.
func BenchmarkShellRequest(b *testing.B) {
	for _, silent := range []bool{true, false} {
		name := "silent"
		if !silent {
			name = "execute_input"
		}
		b.Run(name, func(b *testing.B) {
			sent := 0
			e := memEngine(b, func([][]byte) { sent++ })
			cs, err := wire.NewSession([]byte(benchKey), "hmac-sha256")
			if err != nil {
				b.Fatal(err)
			}
			const batch = 1000
			var reqs [][][]byte
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i%batch == 0 { // fresh requests: the engine refuses replayed signatures
					b.StopTimer()
					reqs = clientRequests(b, cs, batch, "", silent)
					b.StartTimer()
				}
				e.onShell(reqs[i%batch])
			}
			b.StopTimer()
			want := 3
			if !silent {
				want = 4
			}
			if sent != want*b.N {
				b.Fatalf("sent %d messages for %d requests", sent, b.N)
			}
		})
	}
}
