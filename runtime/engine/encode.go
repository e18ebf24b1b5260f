package engine

import (
	"strconv"
	"time"

	"ipcluster/runtime/wire"
)

// The engine's own messages have a fixed shape, so it writes their JSON directly instead
// of going through wire.Session.Reply and encoding/json with maps: that was half of the
// engine's Go time per task. The bytes are exactly those wire.Session.Reply would send
// (maps encode with sorted keys; strings as encoding/json escapes them without HTML
// escaping); TestShellMessagesMatchReference holds the two together.

var delimiter = []byte(wire.Delimiter)

// headerFixed is the length of a header's fixed parts: the keys, quotes and the date.
const headerFixed = len(`{"msg_id":"","msg_type":""`) + len("2006-01-02T15:04:05.000000Z") + len(`","version":"`+wire.ProtocolVersion+`"}`)

// encoder builds and signs the engine's messages. Owned by the loop goroutine.
type encoder struct {
	session   *wire.Session
	headerEnd []byte // `,"username":…,"session":…,"date":"` after msg_type
	iopubMeta []byte // `{"engine":"<uuid>"}`
	uuid      []byte // the uuid as a JSON string

	// the date of the last second formatted, and that second
	dateSec    int64
	datePrefix []byte // "2006-01-02T15:04:05."

	// scratch space for metadata and contents, which message copies
	metaBuf, contentBuf []byte
}

func newEncoder(s *wire.Session) *encoder {
	c := &encoder{session: s, dateSec: -1}
	c.uuid = appendJSONString(nil, s.ID)
	c.headerEnd = append(appendJSONString([]byte(`,"username":`), s.Username), `,"session":`...)
	c.headerEnd = append(append(c.headerEnd, c.uuid...), `,"date":"`...)
	c.iopubMeta = append(append([]byte(`{"engine":`), c.uuid...), '}')
	return c
}

// appendDate appends t in the protocol's timestamp form (wire.FormatDate), formatting the
// date and time of day only once per second.
func (c *encoder) appendDate(dst []byte, t time.Time) []byte {
	t = t.UTC()
	if sec := t.Unix(); sec != c.dateSec {
		y := t.Year()
		if y < 1000 || y > 9999 { // not four digits: leave the odd cases to the time package
			return append(dst, wire.FormatDate(t)...)
		}
		_, mo, d := t.Date()
		h, mi, s := t.Clock()
		p := c.datePrefix[:0]
		p = strconv.AppendInt(p, int64(y), 10)
		p = append(p, '-', byte('0'+mo/10), byte('0'+mo%10), '-', byte('0'+d/10), byte('0'+d%10),
			'T', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10), '.')
		c.datePrefix, c.dateSec = p, sec
	}
	dst = append(dst, c.datePrefix...)
	us := t.Nanosecond() / 1000
	var frac [7]byte
	for i := 5; i >= 0; i-- {
		frac[i] = byte('0' + us%10)
		us /= 10
	}
	frac[6] = 'Z'
	return append(dst, frac[:]...)
}

// message builds and signs a message: idents (or a topic, for iopub), the delimiter, the
// signature, a new header for msgType, parent (the request's raw header; nil for none),
// and the already encoded metadata and content, which are copied (they may be the
// encoder's scratch buffers).
func (c *encoder) message(idents [][]byte, topic []byte, msgType string, parent, metadata, content []byte) [][]byte {
	msgID := c.session.NewMsgID()
	if len(metadata) == 0 {
		metadata = []byte("{}")
	}
	if len(content) == 0 {
		content = []byte("{}")
	}
	buf := make([]byte, 0, len(topic)+headerFixed+len(msgID)+len(msgType)+len(c.headerEnd)+len(metadata)+len(content))
	buf = append(buf, topic...)
	nTopic := len(buf)
	buf = append(buf, `{"msg_id":`...)
	buf = appendJSONString(buf, msgID)
	buf = append(buf, `,"msg_type":`...)
	buf = appendJSONString(buf, msgType)
	buf = append(buf, c.headerEnd...)
	buf = c.appendDate(buf, time.Now())
	buf = append(buf, `","version":"`+wire.ProtocolVersion+`"}`...)
	nHeader := len(buf)
	buf = append(buf, metadata...)
	nMeta := len(buf)
	buf = append(buf, content...)
	header := buf[nTopic:nHeader:nHeader]
	metadata, content = buf[nHeader:nMeta:nMeta], buf[nMeta:]
	if len(parent) == 0 {
		parent = []byte("{}")
	}
	sig := c.session.Signer().Sign(header, parent, metadata, content)
	frames := make([][]byte, 0, len(idents)+7)
	if topic != nil {
		frames = append(frames, buf[:nTopic:nTopic])
	}
	frames = append(frames, idents...)
	return append(frames, delimiter, sig, header, parent, metadata, content)
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

// appendJSONValue appends a value decoded from JSON as wire.Marshal encodes it.
func appendJSONValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendJSONString(dst, v)
	case bool:
		return strconv.AppendBool(dst, v)
	case nil:
		return append(dst, "null"...)
	}
	enc, err := wire.Marshal(v)
	if err != nil {
		return append(dst, "null"...) // cannot happen for values decoded from JSON
	}
	return append(dst, enc...)
}

// Fixed contents.
var (
	statusBusy     = []byte(`{"execution_state":"busy"}`)
	statusIdle     = []byte(`{"execution_state":"idle"}`)
	statusStarting = []byte(`{"execution_state":"starting"}`)
	contentAborted = []byte(`{"status":"aborted"}`)
)

// executeOK is the content of a successful execute_reply, in the scratch space.
func (c *encoder) executeOK(count int) []byte {
	b := append(c.contentBuf[:0], `{"execution_count":`...)
	b = strconv.AppendInt(b, int64(count), 10)
	b = append(b, `,"payload":[],"status":"ok","user_expressions":{}}`...)
	c.contentBuf = b
	return b
}

// executeInput is the content of an execute_input message, in the scratch space.
func (c *encoder) executeInput(code string, count int) []byte {
	b := append(c.contentBuf[:0], `{"code":`...)
	b = appendJSONString(b, code)
	b = append(b, `,"execution_count":`...)
	b = strconv.AppendInt(b, int64(count), 10)
	b = append(b, '}')
	c.contentBuf = b
	return b
}
