package engine

import (
	"bytes"
	"encoding/json"
	"testing"

	"ipcluster/runtime/wire"
)

// decodeSeeds are JSON parts as clients send them, and odd ones.
var decodeSeeds = []string{
	`{"msg_id":"778c6649-37a266266b8605b852c53821_1_720","msg_type":"execute_request","username":"u","session":"778c6649-37a266266b8605b852c53821","date":"2026-11-21T05:15:05.530575Z","version":"5.3"}`,
	`{"after":[],"follow":[],"retries":0,"targets":[],"timeout":0}`,
	`{"code":"","silent":true,"store_history":false,"user_expressions":{},"allow_stdin":false,"stop_on_error":false}`,
	`{"is_broadcast":true,"is_coalescing":false,"original_msg_id":"abc","label":"x","targets":[["u",0]],"timeout":1.5e3}`,
	`{"is_broadcast":1,"label":null,"original_msg_id":"\u00e9","x":-0.0}`,
	`{"MSG_ID":"a","Msg_Type":"b","code":"é","silent":null,"CODE":"x"}`,
	`{"msg_id":"a","msg_id":null,"msg_type":5}`,
	`{"t":1e400}`, `{"t":12345678901234567890123}`, `[1,2]`, `null`, ` {} `, `{"a":{"b":[{"c":[]}]}}`,
	`{"code":"\ud800","silent":"yes"}`, `{"code":"a\"b"}`, `{"k":"\x01"}`, "{\"k\":\"\xff\"}", `{"mſg_id":"x"}`,
	`{"is_broadcast":true,"t":1e400}`, `{"original_msg_id":"null","label":"\u2028","silent":"null"}`, `{"label":"é","code":null,"silent":null}`,
}

// FuzzDecodeMatchesEncodingJSON checks that the scanner-based decoders give what
// encoding/json gives (wire's FuzzScanObject checks the scanner itself).
func FuzzDecodeMatchesEncodingJSON(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoders(t, data)
	})
}

func TestDecodeSeeds(t *testing.T) {
	for _, s := range decodeSeeds {
		checkDecoders(t, []byte(s))
	}
	// what clients send takes the fast path
	for _, s := range decodeSeeds[:4] {
		if !wire.ScanObject([]byte(s), nil, nil) {
			t.Errorf("not scanned: %s", s)
		}
	}
	if _, _, ok := scanHeader([]byte(decodeSeeds[0])); !ok {
		t.Error("header not scanned")
	}
	for _, s := range decodeSeeds[1:4] {
		if _, ok := scanEcho([]byte(s)); !ok {
			t.Errorf("metadata not scanned: %s", s)
		}
	}
	if _, _, ok := scanExecute([]byte(decodeSeeds[2])); !ok {
		t.Error("content not scanned")
	}
}

func checkDecoders(t *testing.T, data []byte) {
	t.Helper()
	id, typ, err := parseHeader(data)
	h, herr := wire.ParseHeader(data)
	if (err != nil) != (herr != nil) || err == nil && (id != h.MsgID || typ != h.MsgType) {
		t.Errorf("header %q: %q %q %v, want %q %q %v", data, id, typ, err, h.MsgID, h.MsgType, herr)
	}
	var meta map[string]any
	if err := json.Unmarshal(data, &meta); err != nil {
		meta = nil
	}
	got, want := parseEcho(data), echoOf(meta)
	if !bytes.Equal(got.isBroadcast, want.isBroadcast) || !bytes.Equal(got.isCoalescing, want.isCoalescing) ||
		!bytes.Equal(got.originalMsgID, want.originalMsgID) || !bytes.Equal(got.label, want.label) ||
		(got.label == nil) != (want.label == nil) {
		t.Errorf("metadata %q: %s, want %s", data, got, want)
	}
	code, silent := parseExecute(data)
	var content struct {
		Code   string `json:"code"`
		Silent bool   `json:"silent"`
	}
	json.Unmarshal(data, &content)
	if code != content.Code || silent != content.Silent {
		t.Errorf("content %q: %q %v, want %q %v", data, code, silent, content.Code, content.Silent)
	}
}

func (ec echo) String() string {
	return string(ec.isBroadcast) + " " + string(ec.isCoalescing) + " " + string(ec.originalMsgID) + " " + string(ec.label)
}
