package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipcluster/runtime/wire"
)

// The tests in this file pin the engine's messages byte for byte to what the first,
// map-based implementation sent (reproduced here as the reference): only msg_id, date and
// started may differ, and the reference is rebuilt with the values the engine chose.

// refRequest is how the reference decoded a request.
type refRequest struct {
	header wire.Header
	meta   map[string]any
	code   string
	silent bool
	ok     bool // the header parsed (else the request is dropped)
}

func refDecode(r *wire.Raw) refRequest {
	h, err := wire.ParseHeader(r.Header)
	if err != nil {
		return refRequest{}
	}
	req := refRequest{header: h, ok: true}
	if err := json.Unmarshal(r.Metadata, &req.meta); err != nil || req.meta == nil {
		req.meta = map[string]any{}
	}
	var content struct {
		Code   string `json:"code"`
		Silent bool   `json:"silent"`
	}
	json.Unmarshal(r.Content, &content)
	req.code, req.silent = content.Code, content.Silent
	return req
}

func refReplyMetadata(uuid string, id int, meta map[string]any, started, status string) map[string]any {
	md := map[string]any{
		"started":          started,
		"dependencies_met": true,
		"engine":           uuid,
		"is_broadcast":     metaOr(meta, "is_broadcast", false),
		"is_coalescing":    metaOr(meta, "is_coalescing", false),
		"original_msg_id":  metaOr(meta, "original_msg_id", ""),
		"status":           status,
	}
	if label, ok := meta["label"]; ok {
		md["label"] = label
	}
	if status == "error" {
		md["engine_info"] = map[string]any{"engine_uuid": uuid, "engine_id": id}
	}
	return md
}

// refMsg is one message the reference sends.
type refMsg struct {
	idents   [][]byte // nil: an iopub message (topic from the type)
	msgType  string
	metadata any // nil: the iopub metadata; a map with "started" = nil: take it from the engine
	content  any
}

// checkSent compares what the engine sent with the reference messages.
func checkSent(t *testing.T, e *Engine, parent []byte, sent [][][]byte, want []refMsg) {
	t.Helper()
	if len(sent) != len(want) {
		t.Fatalf("sent %d messages, want %d:\n%s", len(sent), len(want), dumpFrames(sent))
	}
	for i, w := range want {
		got := sent[i]
		r, err := e.session.Decode(append([][]byte(nil), got...))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		h, err := wire.ParseHeader(r.Header)
		if err != nil {
			t.Fatalf("message %d header: %v", i, err)
		}
		if d, err := time.Parse("2006-01-02T15:04:05.000000Z", h.Date); err != nil || wire.FormatDate(d) != h.Date ||
			time.Since(d) > time.Minute || time.Since(d) < -time.Second {
			t.Errorf("message %d: date %q", i, h.Date)
		}
		idents := w.idents
		md := w.metadata
		if idents == nil {
			idents = [][]byte{[]byte("engine." + strconv.Itoa(e.ID()) + "." + w.msgType)}
			md = map[string]any{"engine": e.cfg.UUID}
		}
		if m, ok := md.(map[string]any); ok {
			if _, ok := m["started"]; ok {
				var gotMD struct{ Started string }
				json.Unmarshal(r.Metadata, &gotMD)
				if _, err := time.Parse("2006-01-02T15:04:05.000000Z", gotMD.Started); err != nil {
					t.Errorf("message %d: started %q", i, gotMD.Started)
				}
				m["started"] = gotMD.Started
			}
		}
		hdr := wire.Header{MsgID: h.MsgID, MsgType: w.msgType, Username: e.session.Username, Session: e.cfg.UUID,
			Date: h.Date, Version: wire.ProtocolVersion}
		wantFrames, err := e.session.Serialize(&wire.Message{Idents: idents, Header: hdr, Parent: parent, Metadata: md, Content: w.content})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, wantFrames, bytes.Equal) {
			t.Errorf("message %d differs:\ngot  %s\nwant %s", i, dumpFrames([][][]byte{got}), dumpFrames([][][]byte{wantFrames}))
		}
		if !strings.HasPrefix(h.MsgID, e.cfg.UUID+"_") {
			t.Errorf("message %d: msg_id %q", i, h.MsgID)
		}
	}
}

func dumpFrames(msgs [][][]byte) string {
	var b strings.Builder
	for _, m := range msgs {
		for _, f := range m {
			fmt.Fprintf(&b, "%q ", f)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// signed makes a request with raw JSON parts, signed with benchKey.
func signed(t *testing.T, s *wire.Session, header, metadata, content string) [][]byte {
	t.Helper()
	r := &wire.Raw{Idents: [][]byte{[]byte("task_out"), {0, 1, 2, 3, 4}}, Header: []byte(header), Parent: []byte("{}"),
		Metadata: []byte(metadata), Content: []byte(content)}
	s.Resign(r)
	return r.Frames()
}

func TestShellMessagesMatchReference(t *testing.T) {
	cs, err := wire.NewSession([]byte(benchKey), "hmac-sha256")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	hdr := func(msgType string) string {
		n++
		return fmt.Sprintf(`{"msg_id":"%s_1_%d","msg_type":%q,"username":"u","session":%q,"date":"2026-11-21T05:15:05.530575Z","version":"5.3"}`,
			cs.ID, n, msgType, cs.ID)
	}
	goMeta := `{"after":[],"follow":[],"retries":0,"targets":[],"timeout":0}`
	headers := []func() string{
		func() string { return hdr("execute_request") },
		// other key orders, extra keys, escapes, case variants (matched by encoding/json)
		func() string {
			n++
			return fmt.Sprintf(`{"version":"5.3","date":"x","session":"s","username":"u","msg_type":"execute_request","msg_id":"a\u0062%d","extra":[1,{"a":null}]}`, n)
		},
		func() string { n++; return fmt.Sprintf(` { "MSG_ID" : "m%d" , "Msg_Type":"execute_request" } `, n) },
		func() string {
			n++
			return fmt.Sprintf(`{"msg_id":"m%d","msg_type":"execute_request","msg_id":"dup%d"}`, n, n)
		},
		func() string { n++; return fmt.Sprintf(`{"msg_id":"é%d","msg_type":"execute_request"}`, n) },
	}
	metas := []string{
		goMeta,
		`{}`, `null`, `[1]`, `{"is_broadcast":tru}`, `not json`, ``,
		`{"is_broadcast":true,"is_coalescing":true,"original_msg_id":"orig","label":"lbl","targets":[["x",0]]}`,
		`{"is_broadcast":1,"is_coalescing":null,"original_msg_id":"\u00e9\"\\\n\u2028<>&","label":null}`,
		`{"label":{"b":[1,2.50,1e3],"a":"x"},"original_msg_id":"é"}`,
		`{"IS_BROADCAST":true,"Label":"x","is_broadcast":false,"is_broadcast":true}`,
		`{"original_msg_id":"\ud800","is_coalescing":"yes","label":-0.0}`,
		`{"original_msg_id":12345678901234567890,"label":1e400}`,
		` {"is_broadcast" : false , "label" : [ ] } `,
	}
	contents := []string{
		`{"code":"","silent":true,"store_history":false,"user_expressions":{},"allow_stdin":false,"stop_on_error":false}`,
		`{"code":"","silent":false}`,
		`{"code":"  \n\t","silent":false}`,
		`{"code":"","silent":"yes"}`,
		`{"code":null,"silent":null}`,
		`{"CODE":"","Silent":false}`,
		`[]`, `{}`, `bad`,
		`{"silent":false,"code":"","silent":true}`,
	}
	types := []string{"kernel_info_request", "apply_request", "foo_request", "comm_msg"}

	var sent [][][]byte
	e := memEngine(t, func(f [][]byte) { sent = append(sent, append([][]byte(nil), f...)) })
	run := func(frames [][]byte) (refRequest, []byte) {
		t.Helper()
		sent = nil
		r, err := wire.Split(frames)
		if err != nil {
			t.Fatal(err)
		}
		ref := refDecode(r)
		e.onShell(frames)
		return ref, r.Header
	}
	idents := [][]byte{[]byte("task_out"), {0, 1, 2, 3, 4}}
	for _, mkHeader := range headers {
		for _, meta := range metas {
			for _, content := range contents {
				frames := signed(t, cs, mkHeader(), meta, content)
				count := e.execCount
				ref, parent := run(frames)
				if !ref.ok {
					if len(sent) != 0 {
						t.Errorf("sent %d messages for a request with a bad header", len(sent))
					}
					continue
				}
				want := []refMsg{{msgType: "status", content: map[string]any{"execution_state": "busy"}}}
				if !ref.silent {
					count++
					want = append(want, refMsg{msgType: "execute_input", content: map[string]any{"code": ref.code, "execution_count": count}})
				}
				if strings.TrimSpace(ref.code) != "" {
					t.Fatalf("test requests must not start commands: %q", ref.code)
				}
				want = append(want,
					refMsg{idents: idents, msgType: "execute_reply", metadata: refReplyMetadata(e.cfg.UUID, 0, ref.meta, "", "ok"),
						content: map[string]any{"status": "ok", "execution_count": count, "user_expressions": map[string]any{}, "payload": []any{}}},
					refMsg{msgType: "status", content: map[string]any{"execution_state": "idle"}})
				checkSent(t, e, parent, sent, want)
			}
		}
	}
	// requests that are not execute_request
	for _, msgType := range types {
		for _, meta := range metas[:3] {
			h := strings.Replace(hdr("x"), `"x"`, strconv.Quote(msgType), 1)
			ref, parent := run(signed(t, cs, h, meta, `{}`))
			want := []refMsg{{msgType: "status", content: map[string]any{"execution_state": "busy"}}}
			switch msgType {
			case "apply_request":
				content := errorContent("NotImplementedError", pythonEngineHint, nil, e.engineInfo("apply"))
				want = append(want, refMsg{msgType: "error", content: content},
					refMsg{idents: idents, msgType: "apply_reply", metadata: refReplyMetadata(e.cfg.UUID, 0, ref.meta, "", "error"),
						content: withStatus(content, "error")})
			case "kernel_info_request":
				want = append(want, refMsg{idents: idents, msgType: "kernel_info_reply",
					metadata: refReplyMetadata(e.cfg.UUID, 0, ref.meta, "", "ok"), content: kernelInfo()})
			case "foo_request":
				content := errorContent("NotImplementedError", "foo_request is not supported by this engine (ipengine-go runs shell commands)", nil, e.engineInfo(""))
				want = append(want, refMsg{idents: idents, msgType: "foo_reply",
					metadata: refReplyMetadata(e.cfg.UUID, 0, ref.meta, "", "error"), content: withStatus(content, "error")})
			}
			want = append(want, refMsg{msgType: "status", content: map[string]any{"execution_state": "idle"}})
			checkSent(t, e, parent, sent, want)
		}
	}
	// aborted requests
	for _, meta := range metas {
		h := hdr("execute_request")
		ph, _ := wire.ParseHeader([]byte(h))
		e.aborted[ph.MsgID] = true
		ref, parent := run(signed(t, cs, h, meta, contents[0]))
		checkSent(t, e, parent, sent, []refMsg{
			{msgType: "status", content: map[string]any{"execution_state": "busy"}},
			{idents: idents, msgType: "execute_reply", metadata: refReplyMetadata(e.cfg.UUID, 0, ref.meta, "", "aborted"),
				content: map[string]any{"status": "aborted"}},
			{msgType: "status", content: map[string]any{"execution_state": "idle"}},
		})
	}
	// a failed command's reply
	for _, meta := range metas[:3] {
		frames := signed(t, cs, hdr("execute_request"), meta, `{"code":"x","silent":true}`)
		r, _ := wire.Split(frames)
		ref := refDecode(r)
		req, ok := e.decodeRequest("shell", frames)
		if !ok {
			t.Fatal("decode")
		}
		sent = nil
		failure := errorContent(CommandErrorName, "command 'x' exited with status 3", []string{"a", "é\u2028"}, e.engineInfo("execute"))
		failure["exit_code"] = 3
		e.replyExecute(req, failure)
		content := withStatus(failure, "error")
		content["execution_count"] = e.execCount
		checkSent(t, e, r.Header, sent, []refMsg{
			{msgType: "error", content: failure},
			{idents: idents, msgType: "execute_reply", metadata: refReplyMetadata(e.cfg.UUID, 0, ref.meta, "", "error"), content: content},
		})
	}
}

func metaOr(meta map[string]any, key string, def any) any {
	if v, ok := meta[key]; ok && v != nil {
		return v
	}
	return def
}
