package traitconfig

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Lazy is what traitlets calls a LazyConfigValue: changes to a container trait
// (c.X.y.append(v), .extend(l), .prepend(l), .update(d), and here also +=) made before
// the trait has a value. They apply to whatever value is below them: an earlier layer, a
// base class's value, or the trait's default.
type Lazy struct {
	Inserts []Insert       `json:"inserts,omitempty"` // list.insert(index, value), applied first, in order
	Prepend []any          `json:"prepend,omitempty"` // goes in front, later prepends before earlier ones
	Extend  []any          `json:"extend,omitempty"`  // goes at the end
	Add     []any          `json:"add,omitempty"`     // set.add/update: goes at the end unless present
	Update  map[string]any `json:"update,omitempty"`  // dict keys to set
}

// Insert is one c.Class.trait.insert(index, value).
type Insert struct {
	Index int
	Value any
}

func (l *Lazy) isList() bool {
	return l.Prepend != nil || l.Extend != nil || l.Inserts != nil || l.Add != nil
}

// Apply returns base with the changes applied; base is not modified.
func (l *Lazy) Apply(base any) (any, error) {
	switch b := base.(type) {
	case []any:
		if l.Update != nil {
			return nil, errors.New("cannot update a list (update is for dicts)")
		}
		items := slices.Clone(b)
		for _, in := range l.Inserts { // as Python's list.insert: the index is clipped
			i := in.Index
			if i < 0 {
				i = max(0, len(items)+i)
			}
			items = slices.Insert(items, min(i, len(items)), in.Value)
		}
		out := make([]any, 0, len(l.Prepend)+len(items)+len(l.Extend))
		out = append(append(append(out, l.Prepend...), items...), l.Extend...)
		for _, v := range l.Add {
			if !slices.ContainsFunc(out, func(x any) bool { return reflect.DeepEqual(x, v) }) {
				out = append(out, v)
			}
		}
		return out, nil
	case map[string]any:
		if l.isList() {
			return nil, errors.New("cannot extend a dict (append, extend and prepend are for lists)")
		}
		out := make(map[string]any, len(b)+len(l.Update))
		for k, v := range b {
			out[k] = v
		}
		for k, v := range l.Update {
			out[k] = v
		}
		return out, nil
	}
	if l.isList() {
		return nil, fmt.Errorf("cannot extend %s, %s (not a list)", Literal(base), aType(base))
	}
	return nil, fmt.Errorf("cannot update %s, %s (not a dict)", Literal(base), aType(base))
}

// then combines l with the later next into one Lazy.
func (l *Lazy) then(next *Lazy) (*Lazy, error) {
	if l.isList() && next.Update != nil || l.Update != nil && next.isList() {
		return nil, errors.New("cannot both extend (a list) and update (a dict)")
	}
	out := &Lazy{}
	if l.isList() || next.isList() {
		out.Prepend = append(append([]any{}, next.Prepend...), l.Prepend...)
		out.Extend = append(append([]any{}, l.Extend...), next.Extend...)
		out.Inserts = append(slices.Clone(l.Inserts), next.Inserts...)
		out.Add = append(slices.Clone(l.Add), next.Add...)
	}
	if l.Update != nil || next.Update != nil {
		out.Update = map[string]any{}
		for k, v := range l.Update {
			out.Update[k] = v
		}
		for k, v := range next.Update {
			out.Update[k] = v
		}
	}
	return out, nil
}

// pyType names the Python type of a plain value, for messages.
func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case string:
		return "str"
	case bool:
		return "bool"
	case int64, int:
		return "int"
	case float64:
		return "float"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// aType is pyType with an article: "a str", "an int", "None".
func aType(v any) string {
	switch t := pyType(v); {
	case v == nil:
		return t
	case strings.ContainsRune("aeiou", rune(t[0])):
		return "an " + t
	default:
		return "a " + t
	}
}

// Literal renders a value as the Python literal a config file would hold: 'text', 3, 0.5,
// True, None, ['a', 'b'], {'key': 1} (dict keys sorted). It accepts plain data and
// other Go strings, numbers, slices and string-keyed maps.
func Literal(v any) string {
	var b strings.Builder
	writeLiteral(&b, reflect.ValueOf(v))
	return b.String()
}

func writeLiteral(b *strings.Builder, v reflect.Value) {
	if !v.IsValid() {
		b.WriteString("None")
		return
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			b.WriteString("None")
			return
		}
		writeLiteral(b, v.Elem())
	case reflect.String:
		b.WriteString(quotePython(v.String()))
	case reflect.Bool:
		if v.Bool() {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		b.WriteString(formatFloat(v.Float()))
	case reflect.Slice, reflect.Array:
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			writeLiteral(b, v.Index(i))
		}
		b.WriteByte(']')
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeLiteral(b, k)
			b.WriteString(": ")
			writeLiteral(b, v.MapIndex(k))
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "%v", v.Interface())
	}
}

// formatFloat writes a float as Python's repr does: shortest digits, a ".0" on whole
// numbers, exponent form below 1e-4 and from 1e16 on.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// quotePython quotes a string as Python's repr does.
func quotePython(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"): // a byte that is not UTF-8
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteByte(q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
