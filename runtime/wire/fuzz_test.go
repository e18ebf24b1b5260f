package wire

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary multipart messages to the decoder: it must never panic, and
// whatever it accepts must reassemble into the frames it was given.
func FuzzDecode(f *testing.F) {
	s, _ := NewSession([]byte("fuzz-key"), "hmac-sha256")
	good, _ := s.Reply([][]byte{[]byte("id")}, "apply_reply", []byte(`{"msg_id":"x"}`), map[string]any{"status": "ok"}, map[string]any{"a": []int{1}}, [][]byte{{0xff}})
	f.Add(join(good))
	f.Add(join(good[:4]))
	f.Add([]byte("<IDS|MSG>"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		frames := bytes.Split(data, []byte{0})
		r, err := s.Decode(frames)
		if err != nil {
			return
		}
		if got := join(r.Frames()); !bytes.Equal(got, data) {
			t.Fatalf("reassembled %q from %q", got, data)
		}
		if _, err := ParseHeader(r.Header); err != nil {
			return // a signed message with a bad header is the caller's to refuse
		}
	})
}

func join(frames [][]byte) []byte { return bytes.Join(frames, []byte{0}) }
