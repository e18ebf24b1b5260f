package engine

import (
	"strconv"
	"unicode/utf8"
)

// A small strict JSON scanner for the few fields read from every message. It accepts
// only well-formed JSON, and only what it can read exactly as encoding/json would;
// whenever it says no, callers decode with encoding/json as before, so that odd input
// (escapes, case-folded keys, unusual types, huge numbers) behaves as it always did.
//
// runtime/engine and runtime/client have identical copies of this file (it belongs in
// runtime/wire, which is not ours to change at the moment).

// maxScanDepth bounds nesting; deeper documents are left to encoding/json.
const maxScanDepth = 64

// scanObject calls f with the raw key (the bytes between the quotes) and the raw value of
// each member of the JSON object data, in order. It reports false, possibly after calls to
// f, if data is not a well-formed object, if a key has an escape or a non-ASCII byte, or
// if a number could not be decoded into a float64 (encoding/json fails then).
func scanObject(data []byte, f func(key, value []byte)) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	end, ok := scanObjectAt(data, i, 0, f)
	return ok && skipSpace(data, end) == len(data)
}

// scanObjectAt scans the object starting at data[i] == '{' and returns the index after it.
// f, if not nil, sees its members.
func scanObjectAt(data []byte, i, depth int, f func(key, value []byte)) (int, bool) {
	if depth >= maxScanDepth {
		return 0, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return 0, false
		}
		kEnd, plain, ok := scanString(data, i)
		if !ok {
			return 0, false
		}
		key := data[i+1 : kEnd-1]
		if f != nil && !plain {
			return 0, false // escaped or non-ASCII keys: encoding/json may fold them
		}
		i = skipSpace(data, kEnd)
		if i >= len(data) || data[i] != ':' {
			return 0, false
		}
		i = skipSpace(data, i+1)
		vStart := i
		if i, ok = scanValue(data, i, depth+1); !ok {
			return 0, false
		}
		if f != nil {
			f(key, data[vStart:i])
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return 0, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

func scanArrayAt(data []byte, i, depth int) (int, bool) {
	if depth >= maxScanDepth {
		return 0, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = scanValue(data, i, depth+1); !ok {
			return 0, false
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return 0, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case ']':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// scanValue returns the index after the value that starts at data[i].
func scanValue(data []byte, i, depth int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch c := data[i]; {
	case c == '"':
		end, _, ok := scanString(data, i)
		return end, ok
	case c == '{':
		return scanObjectAt(data, i, depth, nil)
	case c == '[':
		return scanArrayAt(data, i, depth)
	case c == 't':
		return scanLiteral(data, i, "true")
	case c == 'f':
		return scanLiteral(data, i, "false")
	case c == 'n':
		return scanLiteral(data, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return scanNumber(data, i)
	}
	return 0, false
}

func scanLiteral(data []byte, i int, lit string) (int, bool) {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return 0, false
	}
	return i + len(lit), true
}

// scanNumber checks the JSON number grammar, and that the number fits a float64 (as
// encoding/json requires when it decodes into an interface).
func scanNumber(data []byte, i int) (int, bool) {
	start := i
	if data[i] == '-' {
		i++
	}
	if i >= len(data) {
		return 0, false
	}
	switch {
	case data[i] == '0':
		i++
	case '1' <= data[i] && data[i] <= '9':
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	default:
		return 0, false
	}
	simple := true
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return 0, false
		}
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		simple = false
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return 0, false
		}
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	if !simple || i-start > 300 {
		if _, err := strconv.ParseFloat(string(data[start:i]), 64); err != nil {
			return 0, false
		}
	}
	return i, true
}

// scanString returns the index after the string that starts at data[i] == '"', and
// whether its content is plain: printable ASCII without escapes, equal to its decoded
// value.
func scanString(data []byte, i int) (end int, plain, ok bool) {
	plain = true
	for i++; i < len(data); i++ {
		if !stringSpecial[data[i]] {
			continue // the common case, decided with one lookup
		}
		switch c := data[i]; {
		case c == '"':
			return i + 1, plain, true
		case c < 0x20:
			return 0, false, false
		case c == '\\':
			plain = false
			i++
			if i >= len(data) {
				return 0, false, false
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(data)-i < 5 || !isHex(data[i+1]) || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) {
					return 0, false, false
				}
				i += 4
			default:
				return 0, false, false
			}
		case c >= 0x80:
			plain = false
		}
	}
	return 0, false, false
}

// stringSpecial marks the bytes scanString must look at: the end quote, escapes, control
// characters and non-ASCII bytes.
var stringSpecial = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80
	}
	return t
}()

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// plainString returns the value of a raw JSON string that decodes to its own bytes: no
// escapes, and non-ASCII only as valid UTF-8 (encoding/json would repair invalid UTF-8).
func plainString(raw []byte) (string, bool) {
	b, ok := plainBytes(raw)
	return string(b), ok
}

// plainBytes is plainString without the copy: the value's bytes inside raw.
func plainBytes(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return nil, false
	}
	s := raw[1 : len(raw)-1]
	ascii := true
	for _, c := range s {
		if c == '\\' {
			return nil, false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	if !ascii && !utf8.Valid(s) {
		return nil, false
	}
	return s, true
}

// foldsTo reports whether key, which is plain ASCII, matches name the way encoding/json
// matches object keys to struct fields (ASCII case-insensitively) without being name.
func foldsTo(key []byte, name string) bool {
	if len(key) != len(name) || string(key) == name {
		return false
	}
	for i := range key {
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
