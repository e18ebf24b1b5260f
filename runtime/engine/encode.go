package engine

import (
	"strconv"

	"ipcluster/runtime/wire"
)

// The engine's own messages have a fixed shape, so it writes their JSON directly instead
// of going through wire.Session.Reply and encoding/json with maps: that was half of the
// engine's Go time per task. The bytes are exactly those wire.Session.Reply would send
// (maps encode with sorted keys; strings as encoding/json escapes them without HTML
// escaping); TestShellMessagesMatchReference holds the two together.

// encoder builds and signs the engine's messages. Owned by the loop goroutine.
type encoder struct {
	session   *wire.Session
	iopubMeta []byte // `{"engine":"<uuid>"}`
	uuid      []byte // the uuid as a JSON string

	topic [1][]byte // prefix of an iopub message

	// scratch space for metadata and contents, which message copies
	metaBuf, contentBuf []byte
}

func newEncoder(s *wire.Session) *encoder {
	c := &encoder{session: s}
	c.uuid = wire.AppendJSONString(nil, s.ID)
	c.iopubMeta = append(append([]byte(`{"engine":`), c.uuid...), '}')
	return c
}

// message builds and signs a message: idents (or a topic, for iopub), then the parts
// (wire.Session.Encode); metadata and content are copied (they may be the encoder's
// scratch buffers).
func (c *encoder) message(idents [][]byte, topic []byte, msgType string, parent, metadata, content []byte) [][]byte {
	prefix := idents
	if topic != nil { // iopub: the topic alone (Encode copies the prefix list)
		c.topic[0] = topic
		prefix = c.topic[:]
	}
	_, frames := c.session.Encode(prefix, msgType, parent, metadata, content)
	return frames
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
