package wire

import "time"

// Encode is Serialize for parts already encoded as JSON, without encoding/json: it makes a
// new header for msgType, signs, and returns the new msg_id and the frames (prefix — the
// routing idents, or a PUB topic — then the delimiter, signature, header, parent,
// metadata, content). parent is the raw header of the request answered (nil for none);
// empty metadata or content stands for {}. The parts are copied, with the header, into
// one buffer, so the caller may reuse its own. The header's bytes are those Serialize
// writes for s.NewHeader(msgType) (sorted keys, encoding/json's escaping).
func (s *Session) Encode(prefix [][]byte, msgType string, parent, metadata, content []byte) (string, [][]byte) {
	msgID := s.NewMsgID()
	if len(parent) == 0 {
		parent = emptyObject
	}
	if len(metadata) == 0 {
		metadata = emptyObject
	}
	if len(content) == 0 {
		content = emptyObject
	}
	tail := s.headerTail()
	buf := make([]byte, 0, headerFixed+len(msgID)+len(msgType)+len(tail)+len(metadata)+len(content))
	buf = append(buf, `{"msg_id":`...)
	buf = AppendJSONString(buf, msgID)
	buf = append(buf, `,"msg_type":`...)
	buf = AppendJSONString(buf, msgType)
	buf = append(buf, tail...)
	buf = AppendDate(buf, time.Now())
	buf = append(buf, `","version":"`+ProtocolVersion+`"}`...)
	nHeader := len(buf)
	buf = append(buf, metadata...)
	nMeta := len(buf)
	buf = append(buf, content...)
	header := buf[:nHeader:nHeader]
	metadata, content = buf[nHeader:nMeta:nMeta], buf[nMeta:]
	sig := s.signer.Sign(header, parent, metadata, content)
	frames := make([][]byte, 0, len(prefix)+6)
	frames = append(frames, prefix...)
	return msgID, append(frames, delimiterFrame, sig, header, parent, metadata, content)
}

var (
	emptyObject    = []byte("{}")
	delimiterFrame = []byte(Delimiter)
)

// headerFixed is the length of a header's fixed parts: the keys, quotes and the date.
const headerFixed = len(`{"msg_id":"","msg_type":""`) + len("2006-01-02T15:04:05.000000Z") + len(`","version":"`+ProtocolVersion+`"}`)

// headerTail is `,"username":…,"session":…,"date":"`, made once per session.
func (s *Session) headerTail() []byte {
	s.tailOnce.Do(func() {
		t := append(AppendJSONString([]byte(`,"username":`), s.Username), `,"session":`...)
		s.tail = append(AppendJSONString(t, s.ID), `,"date":"`...)
	})
	return s.tail
}
