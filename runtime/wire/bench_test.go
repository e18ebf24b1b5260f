package wire

import (
	"testing"
)

// benchMessages are n distinct signed execute_reply messages as an engine sends them.
func benchMessages(b *testing.B, s *Session, n int) [][][]byte {
	parent, _ := Marshal(s.NewHeader("execute_request"))
	out := make([][][]byte, n)
	for i := range out {
		md := map[string]any{"started": Now(), "dependencies_met": true, "engine": s.ID, "is_broadcast": false,
			"is_coalescing": false, "original_msg_id": "", "status": "ok"}
		rc := map[string]any{"status": "ok", "execution_count": 1, "user_expressions": map[string]any{}, "payload": []any{}}
		f, err := s.Reply([][]byte{[]byte("engine"), []byte("client")}, "execute_reply", parent, md, rc, nil)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = f
	}
	return out
}

func BenchmarkDecode(b *testing.B) {
	s, _ := NewSession([]byte("d7aead75-50855c025a056f2a071d7a5d"), "hmac-sha256")
	msgs := benchMessages(b, s, b.N)
	recv, _ := NewSession([]byte("d7aead75-50855c025a056f2a071d7a5d"), "hmac-sha256")
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := recv.Decode(msgs[i]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	s, _ := NewSession([]byte("d7aead75-50855c025a056f2a071d7a5d"), "hmac-sha256")
	r, _ := Split(benchMessages(b, s, 1)[0])
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s.signer.Sign(r.Header, r.Parent, r.Metadata, r.Content)
	}
}

func BenchmarkCheck(b *testing.B) {
	s, _ := NewSession([]byte("d7aead75-50855c025a056f2a071d7a5d"), "hmac-sha256")
	r, _ := Split(benchMessages(b, s, 1)[0])
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := s.signer.Check(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReplayGuardAdmit(b *testing.B) {
	s, _ := NewSession([]byte("k"), "hmac-sha256")
	sigs := make([][]byte, 1<<19)
	for i := range sigs {
		sigs[i] = s.signer.Sign([]byte{byte(i), byte(i >> 8), byte(i >> 16)}, nil, nil, nil)
	}
	g := NewReplayGuard(0)
	for _, sig := range sigs[len(sigs)-DefaultReplayHistory:] { // steady state: the history is full
		g.Admit(sig)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if !g.Admit(sigs[i%len(sigs)]) {
			b.Fatal("refused")
		}
	}
}

var pythonHeader = []byte(`{"msg_id": "0d5e7ba1-5b1cf0e4c0f0a3a4a3b1d1e2_12345_7", "msg_type": "execute_request", "username": "someone", "session": "0d5e7ba1-5b1cf0e4c0f0a3a4a3b1d1e2", "date": "2026-11-21T05:15:05.530575Z", "version": "5.3"}`)

func BenchmarkParseHeader(b *testing.B) {
	s, _ := NewSession([]byte("k"), "hmac-sha256")
	goHeader, _ := Marshal(s.NewHeader("execute_request"))
	for name, raw := range map[string][]byte{"go": goHeader, "python": pythonHeader} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := ParseHeader(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
