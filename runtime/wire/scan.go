package wire

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A fast path for the few top-level members that hot code reads from the JSON parts of a
// message (msg_id and msg_type of a header, status of reply metadata, ...). ScanObject
// validates the whole input as encoding/json would, but reports only the members asked for,
// without reflection or allocation. It gives up (ok=false) on anything where its answer
// could differ from encoding/json's, and callers then decode with encoding/json: the
// results are always the same, only the common case is faster.

// Kind is the kind of a member's value found by ScanObject.
type Kind uint8

// Kinds of member values. A KindString is plain: no escapes and valid UTF-8, so its raw bytes
// are its value. Strings with escapes or invalid UTF-8, numbers, null, arrays and objects
// are KindOther.
const (
	KindAbsent Kind = iota
	KindString
	KindTrue
	KindFalse
	KindOther
)

// Member is a member's value found by ScanObject: for a KindString, the bytes between the
// quotes; for the others, the raw JSON value.
type Member struct {
	Kind Kind
	Raw  []byte
}

// maxScanDepth bounds nesting; deeper input is left to encoding/json (whose own limit is
// 10000).
const maxScanDepth = 1000

// ScanObject checks that data is a valid JSON object and stores in out[i] the value of its
// top-level member names[i]. It reports false when data is not valid JSON or not an
// object, when a number does not fit a float64 (encoding/json cannot decode such data into
// an any or a map[string]any), when a name occurs twice (encoding/json keeps the last
// value, or the earlier one when the last is null, and reports a type error of either),
// and when encoding/json could match a key to a name in a way it does not: a key with
// escapes or non-ASCII bytes, or a key equal to a name but for case (struct fields match
// case-insensitively). Names must be ASCII. out must be at least as long as names; it is
// cleared first. A KindString's Raw is a subslice of data, between the quotes.
func ScanObject(data []byte, names []string, out []Member) bool {
	for i := range names {
		out[i] = Member{}
	}
	s := scanner{data: data}
	s.ws()
	if !s.next('{') {
		return false
	}
	s.ws()
	if s.next('}') {
		s.ws()
		return s.i == len(s.data)
	}
	for {
		if s.i >= len(s.data) || s.data[s.i] != '"' {
			return false
		}
		start, end, plain, ascii, ok := s.str()
		if !ok || !plain || !ascii {
			return false
		}
		key := data[start:end]
		field := -1
		for i, name := range names {
			if string(key) == name {
				field = i
				break
			}
			if equalFoldASCII(key, name) {
				return false
			}
		}
		if field >= 0 && out[field].Kind != KindAbsent {
			return false // a repeated name
		}
		s.ws()
		if !s.next(':') {
			return false
		}
		s.ws()
		vstart := s.i
		if field >= 0 && s.i < len(s.data) && s.data[s.i] == '"' {
			start, end, plain, ascii, ok := s.str()
			if !ok {
				return false
			}
			if plain && (ascii || utf8.Valid(data[start:end])) {
				out[field] = Member{KindString, data[start:end]}
			} else {
				out[field] = Member{KindOther, data[vstart:s.i]}
			}
		} else {
			if !s.value(1) {
				return false
			}
			if field >= 0 {
				kind := KindOther
				switch string(data[vstart:s.i]) {
				case "true":
					kind = KindTrue
				case "false":
					kind = KindFalse
				}
				out[field] = Member{kind, data[vstart:s.i]}
			}
		}
		s.ws()
		if s.next(',') {
			s.ws()
			continue
		}
		if !s.next('}') {
			return false
		}
		s.ws()
		return s.i == len(s.data)
	}
}

// ScanStrings reads members of the JSON object data as encoding/json decodes them into
// string fields of a struct whose JSON names are names: out[i] is the value of names[i]
// (nil when absent or null, which leaves a field as it was) for i < len(out); the members
// names[len(out):] are only checked to be strings or null, as decoding them would. The
// values point into data. It reports false when the result could differ from
// encoding/json's (see ScanObject; also a value to report that is not a plain string);
// callers then decode with encoding/json. At most 8 names.
func ScanStrings(data []byte, names []string, out [][]byte) bool {
	var m [8]Member
	if len(names) > len(m) || len(out) > len(names) || !ScanObject(data, names, m[:]) {
		return false
	}
	for i, v := range m[:len(names)] {
		switch {
		case v.Kind == KindString:
			if i < len(out) {
				out[i] = v.Raw
			}
		case v.Kind == KindAbsent || v.Kind == KindOther && string(v.Raw) == "null":
			if i < len(out) {
				out[i] = nil
			}
		case i >= len(out) && v.Kind == KindOther && v.Raw[0] == '"':
			// a string with escapes: decodes without error
		default:
			return false
		}
	}
	return true
}

func equalFoldASCII(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i := range len(key) {
		a, b := key[i], name[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

type scanner struct {
	data []byte
	i    int
}

func (s *scanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) next(c byte) bool {
	if s.i < len(s.data) && s.data[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str scans the string at s.i (which is '"'): start and end delimit its raw contents;
// plain means without escapes.
func (s *scanner) str() (start, end int, plain, ascii, ok bool) {
	s.i++
	start = s.i
	plain, ascii = true, true
	for s.i < len(s.data) {
		for s.i < len(s.data) && !strSpecial[s.data[s.i]] {
			s.i++
		}
		if s.i >= len(s.data) {
			return
		}
		c := s.data[s.i]
		switch {
		case c == '"':
			end = s.i
			s.i++
			return start, end, plain, ascii, true
		case c == '\\':
			plain = false
			s.i++
			if s.i >= len(s.data) {
				return
			}
			switch s.data[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if s.i+4 >= len(s.data) {
					return
				}
				for _, h := range s.data[s.i+1 : s.i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return
					}
				}
				s.i += 5
			default:
				return
			}
		case c < 0x20:
			return
		default: // >= 0x80
			ascii = false
			s.i++
		}
	}
	return
}

// strSpecial marks the bytes that end a run of plain ASCII inside a string.
var strSpecial = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80
	}
	return t
}()

// value scans any JSON value at s.i.
func (s *scanner) value(depth int) bool {
	if s.i >= len(s.data) || depth > maxScanDepth {
		return false
	}
	switch c := s.data[s.i]; {
	case c == '"':
		_, _, _, _, ok := s.str()
		return ok
	case c == '{':
		s.i++
		s.ws()
		if s.next('}') {
			return true
		}
		for {
			if s.i >= len(s.data) || s.data[s.i] != '"' {
				return false
			}
			if _, _, _, _, ok := s.str(); !ok {
				return false
			}
			s.ws()
			if !s.next(':') {
				return false
			}
			s.ws()
			if !s.value(depth + 1) {
				return false
			}
			s.ws()
			if s.next(',') {
				s.ws()
				continue
			}
			return s.next('}')
		}
	case c == '[':
		s.i++
		s.ws()
		if s.next(']') {
			return true
		}
		for {
			if !s.value(depth + 1) {
				return false
			}
			s.ws()
			if s.next(',') {
				s.ws()
				continue
			}
			return s.next(']')
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if len(s.data)-s.i >= len(lit) && string(s.data[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and checks that the number
// fits a float64, as encoding/json requires when it decodes into an any.
func (s *scanner) number() bool {
	start := s.i
	s.next('-')
	switch {
	case s.next('0'):
	case s.i < len(s.data) && '1' <= s.data[s.i] && s.data[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.next('.') {
		if s.digits() == 0 {
			return false
		}
	}
	simple := true
	if s.next('e') || s.next('E') {
		simple = false
		if !s.next('+') {
			s.next('-')
		}
		if s.digits() == 0 {
			return false
		}
	}
	if !simple || s.i-start > 300 { // else it is below 1e301
		if _, err := strconv.ParseFloat(string(s.data[start:s.i]), 64); err != nil {
			return false
		}
	}
	return true
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.data) && '0' <= s.data[s.i] && s.data[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

var headerNames = []string{"msg_id", "msg_type", "username", "session", "date", "version"}

// parseHeaderFast is ParseHeader's common case; ok=false leaves it to encoding/json.
func parseHeaderFast(raw []byte) (h Header, ok bool) {
	var m [6]Member
	if !ScanObject(raw, headerNames, m[:]) {
		return h, false
	}
	n := 0
	for _, v := range m[1:] {
		switch v.Kind {
		case KindAbsent:
		case KindString:
			n += len(v.Raw)
		default:
			return Header{}, false
		}
	}
	if m[0].Kind != KindAbsent && m[0].Kind != KindString {
		return Header{}, false
	}
	// msg_id on its own (it is kept long after the header), the others in one allocation
	h.MsgID = string(m[0].Raw)
	var b strings.Builder
	b.Grow(n)
	for _, v := range m[1:] {
		b.Write(v.Raw)
	}
	all, off := b.String(), 0
	for i, dst := range [5]*string{&h.MsgType, &h.Username, &h.Session, &h.Date, &h.Version} {
		*dst = all[off : off+len(m[i+1].Raw)]
		off += len(m[i+1].Raw)
	}
	return h, true
}

// MsgID returns the msg_id of a raw header (a parent header, say) as decoding it into a
// Header would, or "" when it has none or is not valid JSON.
func MsgID(raw []byte) string { return HeaderField(raw, "msg_id") }

// HeaderField returns the member name (msg_id, msg_type, username, session, date or
// version) of a raw header as ParseHeader would fill it in, errors ignored: "" when it is
// missing or raw is not valid JSON.
func HeaderField(raw []byte, name string) string {
	names := [1]string{name}
	var m [1]Member
	if ScanObject(raw, names[:], m[:]) {
		switch m[0].Kind {
		case KindAbsent:
			return ""
		case KindString:
			return string(m[0].Raw)
		}
	}
	var h Header
	json.Unmarshal(raw, &h)
	switch name {
	case "msg_id":
		return h.MsgID
	case "msg_type":
		return h.MsgType
	case "username":
		return h.Username
	case "session":
		return h.Session
	case "date":
		return h.Date
	case "version":
		return h.Version
	}
	return ""
}
