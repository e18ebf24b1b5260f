package client

import (
	"encoding/json"
	"strconv"
	"time"

	"ipcluster/runtime/wire"
)

// The messages of the task path (execute requests out; replies and iopub statuses in) are
// written and read without encoding/json's reflection and maps, which were most of the
// client's Go time per task. What is sent is byte for byte what wire.Session.Serialize
// sent for the same maps (sorted keys, encoding/json's string escaping), and what is read
// is what encoding/json read: the scanner (jsonscan.go) gives up on anything it cannot
// read exactly, and encoding/json decodes those messages as before.

var delimiter = []byte(wire.Delimiter)

// headerFixed is the length of a header's fixed parts: the keys, quotes and the date.
const headerFixed = len(`{"msg_id":"","msg_type":""`) + len("2006-01-02T15:04:05.000000Z") + len(`","version":"`+wire.ProtocolVersion+`"}`)

// encoder builds and signs messages of a session. Safe for use from several goroutines.
type encoder struct {
	session   *wire.Session
	headerEnd []byte // `,"username":…,"session":…,"date":"` after msg_type
}

func newEncoder(s *wire.Session) *encoder {
	e := &encoder{session: s}
	e.headerEnd = append(appendJSONString([]byte(`,"username":`), s.Username), `,"session":`...)
	e.headerEnd = append(appendJSONString(e.headerEnd, s.ID), `,"date":"`...)
	return e
}

// message builds and signs a message with a new header for msgType, no parent, and the
// encoded metadata and content; it returns the new msg_id.
func (e *encoder) message(idents [][]byte, msgType string, metadata, content []byte) (string, [][]byte) {
	msgID := e.session.NewMsgID()
	header := make([]byte, 0, headerFixed+len(msgID)+len(msgType)+len(e.headerEnd))
	header = append(header, `{"msg_id":`...)
	header = appendJSONString(header, msgID)
	header = append(header, `,"msg_type":`...)
	header = appendJSONString(header, msgType)
	header = append(header, e.headerEnd...)
	header = appendDate(header, time.Now())
	header = append(header, `","version":"`+wire.ProtocolVersion+`"}`...)
	parent := []byte("{}")
	sig := e.session.Signer().Sign(header, parent, metadata, content)
	frames := make([][]byte, 0, len(idents)+6)
	frames = append(frames, idents...)
	return msgID, append(frames, delimiter, sig, header, parent, metadata, content)
}

// appendDate appends t in the protocol's timestamp form, as wire.FormatDate writes it.
func appendDate(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 1000 || y > 9999 { // not four digits: leave the odd cases to the time package
		return append(dst, wire.FormatDate(t)...)
	}
	h, mi, s := t.Clock()
	us := t.Nanosecond() / 1000
	dst = strconv.AppendInt(dst, int64(y), 10)
	dst = append(dst, '-', byte('0'+mo/10), byte('0'+mo%10), '-', byte('0'+d/10), byte('0'+d%10),
		'T', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10), '.')
	var frac [7]byte
	for i := 5; i >= 0; i-- {
		frac[i] = byte('0' + us%10)
		us /= 10
	}
	frac[6] = 'Z'
	return append(dst, frac[:]...)
}

// appendJSONString appends s as encoding/json (without HTML escaping) writes it: plain
// printable ASCII as is, anything else through encoding/json itself.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x80 || b == '"' || b == '\\' {
			enc, _ := wire.Marshal(s) // a string always encodes
			return append(dst, enc...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

func appendJSONStrings(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
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
	b = appendJSONString(b, code)
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

// scanStrings reads members of the JSON object raw as encoding/json decodes them into
// string fields of a struct whose JSON names are keys: out[i] is the value of keys[i] (nil
// when absent or null) for the first len(out) keys; the other keys are only checked to be
// strings or null, as decoding them would. The values point into raw. It reports false
// when it cannot tell what encoding/json would make of raw.
func scanStrings(raw []byte, keys []string, out [][]byte) bool {
	bad := false
	ok := scanObject(raw, func(key, value []byte) {
		for i, name := range keys {
			if string(key) != name {
				continue
			}
			if string(value) == "null" {
				return // leaves the field as it was
			}
			if i >= len(out) {
				bad = bad || value[0] != '"'
				return
			}
			s, plain := plainBytes(value)
			out[i], bad = s, bad || !plain
			return
		}
		for _, name := range keys {
			if foldsTo(key, name) {
				bad = true // a case variant, which encoding/json matches too
			}
		}
	})
	return ok && !bad
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
	if scanStrings(r.Parent, parentKeys, out[:]) {
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
	if scanStrings(raw, headerKeys, out[:]) {
		return out[0], out[1], nil
	}
	h, err := wire.ParseHeader(raw)
	return []byte(h.MsgType), []byte(h.Session), err
}

// executionState is a status message's execution_state.
func executionState(content []byte) []byte {
	var out [1][]byte
	if scanStrings(content, stateKeys, out[:]) {
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
	if scanStrings(raw, replyKeys, out[:]) {
		return replyMetadata{Engine: string(out[0]), Started: string(out[1])}
	}
	var md replyMetadata
	json.Unmarshal(raw, &md)
	return md
}

// parseReplyContent decodes a reply's content as json.Unmarshal into replyContent does.
// Only replies whose content has a status and none of the error fields are scanned.
func parseReplyContent(raw []byte) (replyContent, error) {
	var status []byte
	bad := false
	ok := scanObject(raw, func(key, value []byte) {
		switch {
		case string(key) == "status":
			if string(value) != "null" {
				s, plain := plainBytes(value)
				status, bad = s, bad || !plain
			}
		case foldsTo(key, "status"), foldsTo(key, "ename") || string(key) == "ename", foldsTo(key, "evalue") || string(key) == "evalue",
			foldsTo(key, "traceback") || string(key) == "traceback", foldsTo(key, "engine_info") || string(key) == "engine_info",
			foldsTo(key, "exit_code") || string(key) == "exit_code":
			bad = true
		}
	})
	var content replyContent
	if ok && !bad {
		content.Status = string(status)
		return content, nil
	}
	err := json.Unmarshal(raw, &content)
	return content, err
}

// parseDate is wire.ParseDate, reading the protocol's own form (UTC, six fractional
// digits, Z) directly.
func parseDate(s string) (time.Time, error) {
	if len(s) == 27 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == '.' && s[26] == 'Z' {
		y, ok1 := digits(s[0:4])
		mo, ok2 := digits(s[5:7])
		d, ok3 := digits(s[8:10])
		h, ok4 := digits(s[11:13])
		mi, ok5 := digits(s[14:16])
		sec, ok6 := digits(s[17:19])
		us, ok7 := digits(s[20:26])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(mo, y) &&
			h < 24 && mi < 60 && sec < 60 {
			return time.Date(y, time.Month(mo), d, h, mi, sec, us*1000, time.UTC), nil
		}
	}
	return wire.ParseDate(s)
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
