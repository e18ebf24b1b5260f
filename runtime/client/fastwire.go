package client

import (
	"encoding/json"
	"strconv"

	"ipcluster/runtime/wire"
)

// The messages of the task path (execute requests out; replies and iopub statuses in) are
// written and read without encoding/json's reflection and maps, which were most of the
// client's Go time per task. What is sent is byte for byte what wire.Session.Serialize
// sent for the same maps (sorted keys, encoding/json's string escaping), and what is read
// is what encoding/json read: wire's scanner (wire.ScanObject, wire.ScanStrings) gives up
// on anything it cannot read exactly, and encoding/json decodes those messages as before.

// encoder builds and signs messages of a session. Safe for use from several goroutines.
type encoder struct {
	session *wire.Session
}

func newEncoder(s *wire.Session) *encoder { return &encoder{session: s} }

// message builds and signs a message with a new header for msgType, no parent, and the
// encoded metadata and content; it returns the new msg_id.
func (e *encoder) message(idents [][]byte, msgType string, metadata, content []byte) (string, [][]byte) {
	return e.session.Encode(idents, msgType, nil, metadata, content)
}

func appendJSONStrings(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = wire.AppendJSONString(dst, s)
	}
	return append(dst, ']')
}

// executeContentJSON is an execute_request's content:
//
//	{"allow_stdin": false, "code": code, "silent": !ExecuteResults, "stop_on_error": false,
//	 "store_history": false, "user_expressions": {}}
//
// Silent, as ipyparallel's view.execute sends it, unless the client wants values: then
// Python engines publish the value of the last line, and every engine echoes the code
// (execute_input), which costs throughput. A failure must not make the engine abort the
// requests queued behind it (stop_on_error).
func (c *Client) executeContentJSON(code string) []byte {
	b := make([]byte, 0, len(code)+120)
	b = append(b, `{"allow_stdin":false,"code":`...)
	b = wire.AppendJSONString(b, code)
	b = append(b, `,"silent":`...)
	b = strconv.AppendBool(b, !c.opts.ExecuteResults)
	return append(b, `,"stop_on_error":false,"store_history":false,"user_expressions":{}}`...)
}

// taskMetadataJSON is a task's metadata: dependencies, timeout, target uuids, retries.
func taskMetadataJSON(opts TaskOptions, targets []string) ([]byte, error) {
	b := make([]byte, 0, 80)
	var err error
	b = append(b, `{"after":`...)
	if b, err = opts.After.appendWire(b); err != nil {
		return nil, err
	}
	b = append(b, `,"follow":`...)
	if b, err = opts.Follow.appendWire(b); err != nil {
		return nil, err
	}
	b = append(b, `,"retries":`...)
	b = strconv.AppendInt(b, int64(opts.Retries), 10)
	b = append(b, `,"targets":`...)
	b = appendJSONStrings(b, targets)
	b = append(b, `,"timeout":`...)
	if t := opts.Timeout.Seconds(); t == 0 {
		b = append(b, '0')
	} else {
		enc, err := wire.Marshal(t)
		if err != nil {
			return nil, err
		}
		b = append(b, enc...)
	}
	return append(b, '}'), nil
}

// appendWire appends d.wire(), encoded.
func (d Dependency) appendWire(dst []byte) ([]byte, error) {
	if ids, ok := d.wire().([]string); ok {
		return appendJSONStrings(dst, ids), nil
	}
	enc, err := wire.Marshal(d.wire())
	return append(dst, enc...), err
}

var (
	parentKeys = []string{"msg_id", "session"}
	headerKeys = []string{"msg_type", "session", "msg_id", "username", "date", "version"} // wire.Header's fields
	stateKeys  = []string{"execution_state"}
	replyKeys  = []string{"engine", "started"}
)

// parentID is the msg_id and session of a message's parent header.
func parentID(r *wire.Raw) (msgID, session []byte) {
	var out [2][]byte
	if wire.ScanStrings(r.Parent, parentKeys, out[:]) {
		return out[0], out[1]
	}
	var p struct {
		MsgID   string `json:"msg_id"`
		Session string `json:"session"`
	}
	json.Unmarshal(r.Parent, &p)
	return []byte(p.MsgID), []byte(p.Session)
}

// headerTypeSession is the msg_type and session of a header as wire.ParseHeader decodes
// them, with its error.
func headerTypeSession(raw []byte) (msgType, session []byte, err error) {
	var out [2][]byte
	if wire.ScanStrings(raw, headerKeys, out[:]) {
		return out[0], out[1], nil
	}
	h, err := wire.ParseHeader(raw)
	return []byte(h.MsgType), []byte(h.Session), err
}

// executionState is a status message's execution_state.
func executionState(content []byte) []byte {
	var out [1][]byte
	if wire.ScanStrings(content, stateKeys, out[:]) {
		return out[0]
	}
	var s struct {
		State string `json:"execution_state"`
	}
	json.Unmarshal(content, &s)
	return []byte(s.State)
}

// parseReplyMetadata decodes the engine and started of a reply's metadata.
func parseReplyMetadata(raw []byte) replyMetadata {
	var out [2][]byte
	if wire.ScanStrings(raw, replyKeys, out[:]) {
		return replyMetadata{Engine: string(out[0]), Started: string(out[1])}
	}
	var md replyMetadata
	json.Unmarshal(raw, &md)
	return md
}

// contentKeys are the members of replyContent, status first.
var contentKeys = []string{"status", "ename", "evalue", "traceback", "engine_info", "exit_code"}

// parseReplyContent decodes a reply's content as json.Unmarshal into replyContent does.
// Only replies whose content has a status and none of the error fields are scanned.
func parseReplyContent(raw []byte) (replyContent, error) {
	var m [6]wire.Member
	if wire.ScanObject(raw, contentKeys, m[:]) {
		ok := m[0].Kind == wire.KindString || m[0].Kind == wire.KindOther && string(m[0].Raw) == "null"
		for _, v := range m[1:] {
			ok = ok && v.Kind == wire.KindAbsent
		}
		if ok {
			var content replyContent
			if m[0].Kind == wire.KindString {
				content.Status = string(m[0].Raw)
			}
			return content, nil
		}
	}
	var content replyContent
	err := json.Unmarshal(raw, &content)
	return content, err
}
