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

	// scratch space for metadata and contents, which message copies
	metaBuf, contentBuf []byte
}

func newEncoder(s *wire.Session) *encoder {
	c := &encoder{session: s}
	c.uuid = wire.AppendJSONString(nil, s.ID)
	c.headerEnd = append(wire.AppendJSONString([]byte(`,"username":`), s.Username), `,"session":`...)
	c.headerEnd = append(append(c.headerEnd, c.uuid...), `,"date":"`...)
	c.iopubMeta = append(append([]byte(`{"engine":`), c.uuid...), '}')
	return c
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
	buf = wire.AppendJSONString(buf, msgID)
	buf = append(buf, `,"msg_type":`...)
	buf = wire.AppendJSONString(buf, msgType)
	buf = append(buf, c.headerEnd...)
	buf = wire.AppendDate(buf, time.Now())
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

// appendJSONValue appends a value decoded from JSON as wire.Marshal encodes it.
func appendJSONValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return wire.AppendJSONString(dst, v)
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
	b = wire.AppendJSONString(b, code)
	b = append(b, `,"execution_count":`...)
	b = strconv.AppendInt(b, int64(count), 10)
	b = append(b, '}')
	c.contentBuf = b
	return b
}
