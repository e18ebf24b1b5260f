package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
)

// Session signs and checks messages for one participant, like jupyter_client's Session: it
// has an id (used as header.session), numbers its msg_ids, and refuses replayed signatures.
// A Session is safe for use from several goroutines; do not change ID or Username once it
// is in use.
type Session struct {
	ID       string
	Username string
	signer   *Signer
	guard    *ReplayGuard
	prefix   string // "<session>_<pid>_"
	counter  atomic.Uint64
	tailOnce sync.Once // header bytes after msg_type (Encode)
	tail     []byte
}

// NewSession makes a Session with a fresh id. key and scheme come from the connection file.
func NewSession(key []byte, scheme string) (*Session, error) {
	return NewSessionWithID(NewID(), key, scheme)
}

// NewSessionWithID makes a Session with a given id (an engine uses its uuid).
func NewSessionWithID(id string, key []byte, scheme string) (*Session, error) {
	signer, err := NewSigner(key, scheme)
	if err != nil {
		return nil, err
	}
	user := os.Getenv("USER")
	if user == "" {
		user = "username"
	}
	return &Session{
		ID:       id,
		Username: user,
		signer:   signer,
		guard:    NewReplayGuard(0),
		prefix:   id + "_" + strconv.Itoa(os.Getpid()) + "_",
	}, nil
}

// Signer returns the session's signer.
func (s *Session) Signer() *Signer { return s.signer }

// NewMsgID returns the next unique msg_id of this session.
func (s *Session) NewMsgID() string {
	return s.prefix + strconv.FormatUint(s.counter.Add(1)-1, 10)
}

// NewHeader returns a fresh header for msgType.
func (s *Session) NewHeader(msgType string) Header {
	return Header{
		MsgID:    s.NewMsgID(),
		MsgType:  msgType,
		Username: s.Username,
		Session:  s.ID,
		Date:     Now(),
		Version:  ProtocolVersion,
	}
}

// Message is an outgoing message. Parent is the raw header of the request being answered
// (nil for none); Metadata and Content are any JSON-encodable values (nil encodes as {}).
// A json.RawMessage is sent as is.
type Message struct {
	Idents   [][]byte
	Header   Header
	Parent   []byte
	Metadata any
	Content  any
	Buffers  [][]byte
}

// Serialize encodes and signs m into frames ready to send.
func (s *Session) Serialize(m *Message) ([][]byte, error) {
	header, err := Marshal(m.Header)
	if err != nil {
		return nil, fmt.Errorf("encode header: %w", err)
	}
	parent := m.Parent
	if len(parent) == 0 {
		parent = []byte("{}")
	}
	metadata, err := marshalPart(m.Metadata)
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	content, err := marshalPart(m.Content)
	if err != nil {
		return nil, fmt.Errorf("encode content: %w", err)
	}
	r := &Raw{Idents: m.Idents, Header: header, Parent: parent, Metadata: metadata, Content: content, Buffers: m.Buffers}
	r.Signature = s.signer.Sign(header, parent, metadata, content)
	return r.Frames(), nil
}

// Reply builds and serializes a reply to the request whose raw header is parent.
func (s *Session) Reply(idents [][]byte, msgType string, parent []byte, metadata, content any, buffers [][]byte) ([][]byte, error) {
	return s.Serialize(&Message{Idents: idents, Header: s.NewHeader(msgType), Parent: parent, Metadata: metadata, Content: content, Buffers: buffers})
}

// Resign recomputes r's signature after its JSON parts were changed.
func (s *Session) Resign(r *Raw) {
	r.Signature = s.signer.Sign(r.Header, r.Parent, r.Metadata, r.Content)
}

// Decode splits frames, checks the signature and refuses replays. Unlike jupyter_client,
// which records a signature before checking it, only valid signatures enter the replay
// history, so forged messages cannot push genuine ones out of it.
func (s *Session) Decode(frames [][]byte) (*Raw, error) {
	r, err := Split(frames)
	if err != nil {
		return nil, err
	}
	if s.signer.Enabled() {
		if len(r.Signature) == 0 {
			return nil, ErrUnsigned
		}
		if err := s.signer.Check(r); err != nil {
			return nil, err
		}
		if !s.guard.Admit(r.Signature) {
			return nil, ErrDuplicate
		}
	}
	return r, nil
}

func marshalPart(v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return []byte("{}"), nil
	case json.RawMessage:
		if len(v) == 0 {
			return []byte("{}"), nil
		}
		return v, nil
	case []byte:
		if len(v) == 0 {
			return []byte("{}"), nil
		}
		return v, nil
	}
	return Marshal(v)
}

// Marshal encodes v as compact JSON without HTML escaping (Python emits "<" raw; both are
// valid JSON, raw is smaller and easier to read in logs).
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// AppendJSONString appends s as Marshal writes it: plain printable ASCII as is, in quotes,
// anything else through Marshal itself. Code that writes fixed-shape JSON directly (the
// engine's replies, the client's requests) uses it for its strings.
func AppendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x80 || b == '"' || b == '\\' {
			enc, _ := Marshal(s) // a string always encodes
			return append(dst, enc...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
