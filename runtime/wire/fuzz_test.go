package wire

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary multipart messages (frames separated by NUL bytes) to the
// decoder of a signing session and of an unsigned one (which lets the fuzzer past the HMAC
// into header parsing): it must never panic, and whatever it accepts must reassemble into
// the frames it was given.
func FuzzDecode(f *testing.F) {
	signed, _ := NewSession([]byte("fuzz-key"), "hmac-sha256")
	unsigned, _ := NewSession(nil, "")
	for _, s := range []*Session{signed, unsigned} {
		seeds := []*Message{
			{Header: s.NewHeader("registration_request"), Content: map[string]any{"uuid": "777adb3d-903d8766d586eb7cd7f749e1"}},
			{Idents: [][]byte{[]byte("mux_out"), {0, 0xf4, 0xb0}}, Header: s.NewHeader("apply_request"),
				Metadata: map[string]any{"after": []string{}, "follow": map[string]any{"dependencies": []string{"x"}, "all": false}, "timeout": 0.0},
				Buffers:  [][]byte{[]byte("\x80\x04K*."), {}}},
			{Idents: [][]byte{[]byte("engine.0.stream")}, Header: s.NewHeader("stream"), Parent: []byte(`{"msg_id":"p"}`),
				Content: map[string]any{"name": "stdout", "text": "héllo\n"}},
		}
		for _, m := range seeds {
			frames, _ := s.Serialize(m)
			f.Add(join(frames))
			f.Add(join(frames[:len(frames)-2]))
		}
	}
	f.Add([]byte("<IDS|MSG>"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range []*Session{signed, unsigned} {
			frames := bytes.Split(data, []byte{0})
			r, err := s.Decode(frames)
			if err != nil {
				continue
			}
			if got := join(r.Frames()); !bytes.Equal(got, data) {
				t.Fatalf("reassembled %q from %q", got, data)
			}
			ParseHeader(r.Header)
			RewriteMsgID(r.Header, "x")
		}
	})
}

func join(frames [][]byte) []byte { return bytes.Join(frames, []byte{0}) }
