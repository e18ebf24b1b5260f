package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func testSession(t *testing.T) *Session {
	t.Helper()
	s, err := NewSession([]byte("d7aead75-50855c025a056f2a071d7a5d"), "hmac-sha256")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	s := testSession(t)
	parent := []byte(`{"msg_id":"p1","msg_type":"connection_request"}`)
	frames, err := s.Reply([][]byte{[]byte("client"), {0, 1, 2}}, "connection_reply", parent,
		nil, map[string]any{"status": "ok", "text": "<ü>"}, [][]byte{[]byte("buf")})
	if err != nil {
		t.Fatal(err)
	}
	recv := testSession(t) // a peer with the same key
	r, err := recv.Decode(frames)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(r.Idents) != 2 || string(r.Idents[0]) != "client" {
		t.Fatalf("idents = %q", r.Idents)
	}
	if !bytes.Equal(r.Parent, parent) || string(r.Metadata) != "{}" {
		t.Fatalf("parent %s metadata %s", r.Parent, r.Metadata)
	}
	if !strings.Contains(string(r.Content), "<ü>") {
		t.Fatalf("content not raw UTF-8: %s", r.Content)
	}
	if len(r.Buffers) != 1 || string(r.Buffers[0]) != "buf" {
		t.Fatalf("buffers %q", r.Buffers)
	}
	h, err := ParseHeader(r.Header)
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != "5.3" || h.MsgType != "connection_reply" || h.Session != s.ID || !strings.HasPrefix(h.MsgID, s.ID+"_") {
		t.Fatalf("header %+v", h)
	}
	if _, err := recv.Decode(frames); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("replay: got %v, want ErrDuplicate", err)
	}
}

func TestRejects(t *testing.T) {
	s := testSession(t)
	good, _ := s.Reply(nil, "x", nil, nil, map[string]int{"a": 1}, nil)
	clone := func() [][]byte {
		out := make([][]byte, len(good))
		for i, f := range good {
			out[i] = append([]byte(nil), f...)
		}
		return out
	}
	unsigned := clone()
	unsigned[1] = nil
	forged := clone()
	forged[5] = []byte(`{"a":2}`)
	cases := map[string]struct {
		frames [][]byte
		want   error
	}{
		"no delimiter": {good[1:], ErrNoDelimiter},
		"truncated":    {good[:4], ErrTruncated},
		"unsigned":     {unsigned, ErrUnsigned},
		"forged":       {forged, ErrBadSignature},
	}
	for name, c := range cases {
		if _, err := testSession(t).Decode(c.frames); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
	other, _ := NewSession([]byte("other-key"), "hmac-sha256")
	if _, err := other.Decode(clone()); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong key: got %v", err)
	}
}

func TestUnsignedSessionAcceptsEmptySignature(t *testing.T) {
	s, err := NewSession(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	frames, _ := s.Reply(nil, "x", nil, nil, nil, nil)
	if len(frames[1]) != 0 {
		t.Fatalf("unsigned session produced a signature %q", frames[1])
	}
	for range 2 { // no replay check without a key, as in jupyter_client
		if _, err := s.Decode(frames); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSchemes(t *testing.T) {
	for _, scheme := range []string{"hmac-sha256", "hmac-sha512", "hmac-sha1", "hmac-md5", ""} {
		if _, err := NewSigner([]byte("k"), scheme); err != nil {
			t.Errorf("%q: %v", scheme, err)
		}
	}
	if _, err := NewSigner([]byte("k"), "rsa-sha256"); err == nil {
		t.Error("rsa-sha256 accepted")
	}
}

func TestReplayGuardIsBounded(t *testing.T) {
	g := NewReplayGuard(3)
	for _, s := range []string{"a", "b", "c", "d"} {
		if !g.Admit([]byte(s)) {
			t.Fatalf("%s refused", s)
		}
	}
	if !g.Admit([]byte("a")) {
		t.Error("oldest signature should have been forgotten")
	}
	if g.Admit([]byte("d")) {
		t.Error("recent duplicate admitted")
	}
	if len(g.ring) != 3 {
		t.Errorf("history holds %d, want 3", len(g.ring))
	}
}

func TestDates(t *testing.T) {
	d := FormatDate(time.Date(2026, 11, 21, 5, 15, 5, 530575123, time.UTC))
	if d != "2026-11-21T05:15:05.530575Z" {
		t.Fatalf("FormatDate = %s", d)
	}
	for _, s := range []string{d, "2026-11-21T05:15:05.530575+00:00", "2026-11-21T05:15:05Z", "2026-11-21T05:15:05.5"} {
		if _, err := ParseDate(s); err != nil {
			t.Errorf("ParseDate(%q): %v", s, err)
		}
	}
}

func TestRewriteMsgIDKeepsOtherKeys(t *testing.T) {
	out, err := RewriteMsgID([]byte(`{"msg_id":"a","extra":{"k":1},"session":"s"}`), "a_uuid")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(out, &m)
	if m["msg_id"] != "a_uuid" || m["session"] != "s" || m["extra"] == nil {
		t.Fatalf("got %s", out)
	}
}

func TestNewID(t *testing.T) {
	id := NewID()
	if len(id) != 33 || id[8] != '-' {
		t.Fatalf("NewID = %q", id)
	}
	if NewID() == id {
		t.Fatal("ids repeat")
	}
}

func TestReplayGuardKeepsSignaturesApart(t *testing.T) {
	g := NewReplayGuard(0)
	sigs := []string{"a", "a\x00", strings.Repeat("ab", 32), strings.Repeat("ab", 33), strings.Repeat("AB", 33),
		strings.Repeat("ab", 64), strings.Repeat("ab", 63) + "ac", strings.Repeat("x", 129), strings.Repeat("x", 130),
		string(make([]byte, 64)), string(make([]byte, 65))}
	for _, s := range sigs {
		if !g.Admit([]byte(s)) {
			t.Errorf("%q refused as a replay of another signature", s)
		}
	}
	for _, s := range sigs {
		if g.Admit([]byte(s)) {
			t.Errorf("replayed %q admitted", s)
		}
	}
}

func TestReplayGuardSharedPrefixes(t *testing.T) {
	g := NewReplayGuard(4)
	sigs := []string{"aaaaaaaa1", "aaaaaaaa2", "aaaaaaaa3", "aaaaaaaa4"}
	for _, s := range sigs {
		if !g.Admit([]byte(s)) {
			t.Fatalf("%s refused", s)
		}
	}
	for _, s := range sigs {
		if g.Admit([]byte(s)) {
			t.Errorf("replayed %s admitted", s)
		}
	}
	if !g.Admit([]byte("aaaaaaaa5")) || !g.Admit([]byte("aaaaaaaa1")) {
		t.Error("the oldest signatures should have been forgotten")
	}
	for _, s := range []string{"aaaaaaaa3", "aaaaaaaa4", "aaaaaaaa5", "aaaaaaaa1"} {
		if g.Admit([]byte(s)) {
			t.Errorf("replayed %s admitted after wrapping", s)
		}
	}
}

// Encode writes exactly what Serialize writes for the same parts, with a valid signature.
func TestEncodeMatchesSerialize(t *testing.T) {
	s, err := NewSessionWithID("a\"b-uuid", []byte("key"), "hmac-sha256")
	if err != nil {
		t.Fatal(err)
	}
	s.Username = "user\u00e9<x>"
	parent := []byte(`{"msg_id":"p"}`)
	for _, tc := range []struct {
		prefix            [][]byte
		metadata, content []byte
	}{
		{nil, nil, nil},
		{[][]byte{[]byte("engine.1.status")}, []byte(`{"engine":"u"}`), []byte(`{"execution_state":"idle"}`)},
		{[][]byte{[]byte("id1"), []byte("id2")}, []byte(`{}`), []byte(`{"code":"echo \"hi\""}`)},
	} {
		msgID, frames := s.Encode(tc.prefix, "execute_reply", parent, tc.metadata, tc.content)
		r, err := s.Decode(frames)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		h, err := ParseHeader(r.Header)
		if err != nil || h.MsgID != msgID || h.MsgType != "execute_reply" || h.Session != s.ID || h.Username != s.Username {
			t.Fatalf("header %+v, %v", h, err)
		}
		want, err := s.Serialize(&Message{Idents: tc.prefix, Header: h, Parent: parent,
			Metadata: json.RawMessage(orEmpty(tc.metadata)), Content: json.RawMessage(orEmpty(tc.content))})
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != len(frames) {
			t.Fatalf("%d frames, want %d", len(frames), len(want))
		}
		for i := range want {
			if !bytes.Equal(want[i], frames[i]) {
				t.Errorf("frame %d: %q, want %q", i, frames[i], want[i])
			}
		}
	}
}

func orEmpty(b []byte) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}
