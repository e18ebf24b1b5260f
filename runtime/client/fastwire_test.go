package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"ipcluster/runtime/wire"
)

// refExecuteContent is the content as the map-based client sent it.
func refExecuteContent(executeResults bool, code string) map[string]any {
	return map[string]any{
		"code": code, "silent": !executeResults, "store_history": false,
		"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": false,
	}
}

// refSerialize serializes as the map-based client did, with the header the encoder chose.
func refSerialize(t *testing.T, c *Client, frames [][]byte, idents [][]byte, md, content any) [][]byte {
	t.Helper()
	r, err := wire.Split(frames)
	if err != nil {
		t.Fatal(err)
	}
	h, err := wire.ParseHeader(r.Header)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := time.Parse("2006-01-02T15:04:05.000000Z", h.Date); err != nil || time.Since(d) > time.Minute {
		t.Errorf("date %q", h.Date)
	}
	hdr := c.session.NewHeader("execute_request")
	hdr.MsgID, hdr.Date = h.MsgID, h.Date
	want, err := c.session.Serialize(&wire.Message{Idents: idents, Header: hdr, Metadata: md, Content: content})
	if err != nil {
		t.Fatal(err)
	}
	return want
}

func TestRequestsMatchReference(t *testing.T) {
	c := memClient(t)
	codes := []string{"", "echo hi", "é\n\"<>&\\", "\u2028x", "\xff\x01"}
	options := []TaskOptions{
		{},
		{Retries: 3, Timeout: 1500 * time.Millisecond},
		{Timeout: 100 * time.Nanosecond},
		{Timeout: 2562047 * time.Hour},
		{After: Dependency{MsgIDs: []string{"a", "b\"c"}}, Follow: Dependency{MsgIDs: []string{"x"}, On: OnSuccess}},
		{After: Dependency{MsgIDs: []string{"a"}, Any: true}, Follow: Dependency{On: OnFailure}},
		{After: Dependency{On: OnSuccess | OnFailure}},
	}
	targetLists := [][]string{{}, {benchEngine, "é"}}
	for _, results := range []bool{false, true} {
		c.opts.ExecuteResults = results
		for _, code := range codes {
			for _, opts := range options {
				for _, targets := range targetLists {
					_, frames, err := c.encodeTask(code, opts, targets)
					if err != nil {
						t.Fatal(err)
					}
					md := map[string]any{
						"after": opts.After.wire(), "follow": opts.Follow.wire(),
						"timeout": opts.Timeout.Seconds(), "targets": targets, "retries": opts.Retries,
					}
					if want := refSerialize(t, c, frames, nil, md, refExecuteContent(results, code)); !slices.EqualFunc(frames, want, bytes.Equal) {
						t.Errorf("task %q %+v:\ngot  %q\nwant %q", code, opts, frames, want)
					}
				}
			}
			// direct requests
			idents := [][]byte{[]byte(benchEngine)}
			_, frames := c.enc.message(idents, "execute_request", []byte("{}"), c.executeContentJSON(code))
			if want := refSerialize(t, c, frames, idents, nil, refExecuteContent(results, code)); !slices.EqualFunc(frames, want, bytes.Equal) {
				t.Errorf("direct %q:\ngot  %q\nwant %q", code, frames, want)
			}
		}
	}
}

var decodeSeeds = []string{
	`{"msg_id":"778c6649-37a266266b8605b852c53821_1_720","msg_type":"execute_request","username":"u","session":"778c6649-37a266266b8605b852c53821","date":"2026-11-21T05:15:05.530575Z","version":"5.3"}`,
	`{"dependencies_met":true,"engine":"777adb3d-903d8766d586eb7cd7f749e1","is_broadcast":false,"is_coalescing":false,"original_msg_id":"","started":"2026-11-21T08:07:38.275395Z","status":"ok"}`,
	`{"execution_count":560,"payload":[],"status":"ok","user_expressions":{}}`,
	`{"execution_state":"idle"}`,
	`{"status":"error","ename":"CommandError","evalue":"x","traceback":["a","b"],"engine_info":{"engine_id":0},"exit_code":3,"execution_count":1}`,
	`{"status":"error","ename":"X","traceback":"not a list","exit_code":1.5}`,
	`{"STATUS":"ok","Engine":"e","Execution_State":"busy","msg_ID":"m","Session":"s"}`,
	`{"status":null,"engine":null,"started":5,"msg_type":["x"],"session":"\u00e9"}`,
	`{"t":1e400,"status":"ok"}`, `null`, `[]`, ` {} `, `{"status":"o\"k"}`, "{\"session\":\"\xff\"}", `{"ſtatus":"x"}`,
	`{"exit_code":null,"engine_info":null,"status":"aborted"}`,
}

// FuzzDecodersMatchEncodingJSON checks the scanner-based decoders against encoding/json
// (wire's FuzzScanObject checks the scanner itself).
func FuzzDecodersMatchEncodingJSON(f *testing.F) {
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
	// what engines send takes the fast path
	var out [2][]byte
	for i, keys := range [][]string{headerKeys, replyKeys, stateKeys, stateKeys} {
		if !wire.ScanStrings([]byte(decodeSeeds[i]), keys, out[:1]) {
			t.Errorf("not scanned: %s", decodeSeeds[i])
		}
	}
}

func checkDecoders(t *testing.T, data []byte) {
	t.Helper()
	id, session := parentID(&wire.Raw{Parent: data})
	var p struct {
		MsgID   string `json:"msg_id"`
		Session string `json:"session"`
	}
	json.Unmarshal(data, &p)
	if string(id) != p.MsgID || string(session) != p.Session {
		t.Errorf("parent %q: %q %q, want %+v", data, id, session, p)
	}
	typ, sess, err := headerTypeSession(data)
	h, herr := wire.ParseHeader(data)
	if (err != nil) != (herr != nil) || err == nil && (string(typ) != h.MsgType || string(sess) != h.Session) {
		t.Errorf("header %q: %q %q %v, want %+v %v", data, typ, sess, err, h, herr)
	}
	var s struct {
		State string `json:"execution_state"`
	}
	json.Unmarshal(data, &s)
	if got := executionState(data); string(got) != s.State {
		t.Errorf("status %q: %q, want %q", data, got, s.State)
	}
	var md replyMetadata
	json.Unmarshal(data, &md)
	if got := parseReplyMetadata(data); got != md {
		t.Errorf("metadata %q: %+v, want %+v", data, got, md)
	}
	var content replyContent
	cerr := json.Unmarshal(data, &content)
	got, gerr := parseReplyContent(data)
	if (gerr != nil) != (cerr != nil) || !reflect.DeepEqual(got, content) {
		t.Errorf("content %q: %s %v, want %s %v", data, show(got), gerr, show(content), cerr)
	}
}

func show(c replyContent) string {
	ec := "nil"
	if c.ExitCode != nil {
		ec = fmt.Sprint(*c.ExitCode)
	}
	return fmt.Sprintf("%+v exit %s", c.errorContent, ec)
}
