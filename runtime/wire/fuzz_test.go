package wire

import (
	"bytes"
	"encoding/json"
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

// FuzzScanObject checks the fast paths against encoding/json: whatever ScanObject accepts
// is a valid JSON object with the same members that also decodes into an any, what
// ScanStrings reads is what encoding/json decodes into string fields, and ParseHeader,
// MsgID and HeaderField give what encoding/json gives.
func FuzzScanObject(f *testing.F) {
	s, _ := NewSession([]byte("k"), "")
	goHeader, _ := Marshal(s.NewHeader("execute_request"))
	for _, seed := range []string{
		string(goHeader), string(pythonHeader), `{}`, ` { } `, `[]`, `null`, `{"msg_id":null}`, `{"msg_id":"a","msg_id":"b"}`,
		`{"MSG_ID":"x"}`, `{"msg_id":"a\u00e9"}`, `{"msg_id":"\xff"}`, `{"msg_id":"é","x":[1,-2.5e+3,{"y":true}],"date":"d"}`,
		`{"msg_id":1}`, `{"msg_id":"a",}`, `{"a":01}`, `{"a":1.}`, `{"a":"\t"}`, `{"ſession":"s"}`, `{"status":"ok","dependencies_met":true}`,
		`{"msg_id":"a"} x`, `{"msg_id":"a"`, `{"a":[[[[]]]]}`, `{"a":"\u12"}`, `{"a":-}`, `{"a":tru}`,
		`{"t":1e400}`, `{"t":12345678901234567890123}`, `{"msg_id":"a","status":null,"dependencies_met":"\u00e9"}`, `{"status":"ok","dependencies_met":true,"msg_id":"m"}`,
		`{"msg_id":5,"msg_id":"a"}`, `{"msg_id":"a","msg_id":null}`, `{"status":"ok","status":"error"}`, `{"msg_type":"status","username":5}`, `{"date":"d","DATE":"e"}`,
	} {
		f.Add([]byte(seed))
	}
	names := []string{"msg_id", "status", "dependencies_met"}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out [3]Member
		if ScanObject(data, names, out[:]) {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(data, &m); err != nil || m == nil {
				t.Fatalf("accepted %q, which encoding/json refuses as an object: %v", data, err)
			}
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				t.Fatalf("accepted %q, which encoding/json cannot decode into an any: %v", data, err)
			}
			for i, name := range names {
				raw, present := m[name]
				switch out[i].Kind {
				case KindAbsent:
					if present {
						t.Fatalf("%q: %s reported absent", data, name)
					}
				case KindString:
					var v string
					if err := json.Unmarshal(raw, &v); err != nil || v != string(out[i].Raw) {
						t.Fatalf("%q: %s = %q, encoding/json: %q (%v)", data, name, out[i].Raw, v, err)
					}
				case KindTrue, KindFalse:
					var v bool
					if err := json.Unmarshal(raw, &v); err != nil || v != (out[i].Kind == KindTrue) {
						t.Fatalf("%q: %s kind %d, encoding/json: %v (%v)", data, name, out[i].Kind, v, err)
					}
				case KindOther:
					if !bytes.Equal(raw, out[i].Raw) {
						t.Fatalf("%q: %s raw %q, encoding/json: %q", data, name, out[i].Raw, raw)
					}
				}
			}
		}
		var strs [2][]byte
		if ScanStrings(data, names, strs[:]) {
			var v struct {
				MsgID  string `json:"msg_id"`
				Status string `json:"status"`
				Met    string `json:"dependencies_met"`
			}
			if err := json.Unmarshal(data, &v); err != nil || v.MsgID != string(strs[0]) || v.Status != string(strs[1]) {
				t.Fatalf("ScanStrings(%q) = %q %q; encoding/json: %+v %v", data, strs[0], strs[1], v, err)
			}
		}
		var want Header
		wantErr := json.Unmarshal(data, &want)
		got, err := ParseHeader(data)
		if (err == nil) != (wantErr == nil) || got != want {
			t.Fatalf("ParseHeader(%q) = %+v, %v; encoding/json: %+v, %v", data, got, err, want, wantErr)
		}
		var p struct {
			MsgID string `json:"msg_id"`
		}
		json.Unmarshal(data, &p)
		if id := MsgID(data); id != p.MsgID {
			t.Fatalf("MsgID(%q) = %q; encoding/json: %q", data, id, p.MsgID)
		}
		for i, v := range []string{want.MsgID, want.MsgType, want.Username, want.Session, want.Date, want.Version} {
			if got := HeaderField(data, headerNames[i]); got != v {
				t.Fatalf("HeaderField(%q, %s) = %q; encoding/json: %q", data, headerNames[i], got, v)
			}
		}
	})
}
