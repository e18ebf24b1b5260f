package wire

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"
)

// ProtocolVersion is sent in every header; a header without it would be treated as v4 by
// jupyter_client and converted on every receiver.
const ProtocolVersion = "5.3"

// dateLayout is the only timestamp form the Python parsers accept reliably: UTC with exactly
// six fractional digits and a Z suffix (a nine-digit Go fraction stays an unparsed string).
const dateLayout = "2006-01-02T15:04:05.000000Z"

// Header is a message header. Extra keys sent by peers are not kept here; code that must
// preserve them works on the raw JSON (see Raw.Header and RewriteMsgID).
type Header struct {
	MsgID    string `json:"msg_id"`
	MsgType  string `json:"msg_type"`
	Username string `json:"username"`
	Session  string `json:"session"`
	Date     string `json:"date"`
	Version  string `json:"version"`
}

// FormatDate renders t in the protocol's timestamp form.
func FormatDate(t time.Time) string { return t.UTC().Format(dateLayout) }

// Now is the current time in the protocol's timestamp form.
func Now() string { return FormatDate(time.Now()) }

// ParseDate parses protocol timestamps: RFC 3339 with 0-9 fractional digits, "Z" or an
// offset; a naive time is taken as local time, as the Python parser does.
func ParseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.Local)
}

// NewID returns a random id in jupyter_client's new_id() form: 8 hex, '-', 24 hex.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:]
}

// ParseHeader decodes a raw header.
func ParseHeader(raw []byte) (Header, error) {
	if h, ok := parseHeaderFast(raw); ok {
		return h, nil
	}
	var h Header
	err := json.Unmarshal(raw, &h)
	return h, err
}

// RewriteMsgID returns the raw header with msg_id replaced and every other key kept.
func RewriteMsgID(raw []byte, msgID string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	id, _ := json.Marshal(msgID)
	m["msg_id"] = id
	return json.Marshal(m)
}
