package wire

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
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

// AppendDate appends FormatDate(t) to dst, without the time package's layout
// interpretation (it is in every message header).
func AppendDate(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 1000 || y > 9999 { // not four digits: leave the odd cases to the time package
		return append(dst, FormatDate(t)...)
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

// Now is the current time in the protocol's timestamp form.
func Now() string { return FormatDate(time.Now()) }

// ParseDate parses protocol timestamps: RFC 3339 with 0-9 fractional digits, "Z" or an
// offset; a naive time is taken as local time, as the Python parser does.
func ParseDate(s string) (time.Time, error) {
	if t, ok := parseDateFast(s); ok {
		return t, nil
	}
	return parseDateSlow(s)
}

// parseDateFast reads the protocol's own form (UTC, six fractional digits, Z) directly;
// ok=false leaves anything else, and invalid dates, to parseDateSlow.
func parseDateFast(s string) (t time.Time, ok bool) {
	if len(s) != 27 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return t, false
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	h, ok4 := digits(s[11:13])
	mi, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	us, ok7 := digits(s[20:26])
	if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(mo, y) &&
		h < 24 && mi < 60 && sec < 60 {
		return time.Date(y, time.Month(mo), d, h, mi, sec, us*1000, time.UTC), true
	}
	return t, false
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

// parseDateSlow is ParseDate with the time package for every form.
func parseDateSlow(s string) (time.Time, error) {
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
