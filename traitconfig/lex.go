package traitconfig

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The lexer splits the Python subset into tokens the way Python's tokenizer does for the
// parts a config file of literals uses: comments, backslash continuations, statements that
// go on over several lines inside brackets, every string and number form.

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokNewline
	tokName
	tokNumber
	tokString
	tokOp
)

type token struct {
	kind     tokenKind
	text     string // source text of names, numbers and operators
	value    any    // int64 or float64 for numbers, the decoded text for strings
	bytes    bool   // a b'...' string
	line     int
	pos, end int  // byte offsets in the source
	indent   bool // first token of a statement, with whitespace before it
}

type lexer struct {
	name  string
	src   string
	pos   int
	line  int
	toks  []token
	open  []token // brackets not yet closed: newlines inside them do not end a statement
	start bool    // at the start of a statement
}

// lex tokenizes src; name is used in errors.
func lex(name, src string) ([]token, error) {
	l := &lexer{name: name, src: src, line: 1, start: true}
	for {
		indent, err := l.skipSpace()
		if err != nil {
			return nil, err
		}
		if l.pos >= len(l.src) {
			break
		}
		t, err := l.token()
		if err != nil {
			return nil, err
		}
		t.indent = indent && l.start
		l.start = false
		l.toks = append(l.toks, t)
	}
	if len(l.open) > 0 {
		o := l.open[len(l.open)-1]
		return nil, l.errAt(o.line, "`%s` is never closed", o.text)
	}
	if !l.start {
		l.toks = append(l.toks, token{kind: tokNewline, line: l.line, pos: l.pos, end: l.pos})
	}
	l.toks = append(l.toks, token{kind: tokEOF, line: l.line, pos: l.pos, end: l.pos})
	return l.toks, nil
}

func (l *lexer) errAt(line int, format string, args ...any) error {
	return &Error{Source{l.name, line}, fmt.Sprintf(format, args...)}
}

// skipSpace skips blanks, comments and line continuations, emitting a newline token where
// a statement ends. It reports whether the next token has whitespace before it.
func (l *lexer) skipSpace() (bool, error) {
	indent := false
	for l.pos < len(l.src) {
		switch c := l.src[l.pos]; {
		case c == ' ' || c == '\t' || c == '\f' || c == '\r':
			l.pos++
			indent = true
		case c == '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
		case c == '\\':
			rest := l.src[l.pos+1:]
			switch {
			case strings.HasPrefix(rest, "\n"):
				l.pos += 2
			case strings.HasPrefix(rest, "\r\n"):
				l.pos += 3
			default:
				return false, l.errAt(l.line, "unexpected `\\` (a backslash only continues a line at its end)")
			}
			l.line++
		case c == '\n':
			if len(l.open) == 0 && !l.start {
				l.toks = append(l.toks, token{kind: tokNewline, line: l.line, pos: l.pos, end: l.pos + 1})
				l.start = true
			}
			l.pos++
			l.line++
			if len(l.open) == 0 {
				indent = false
			}
		default:
			return indent, nil
		}
	}
	return indent, nil
}

func (l *lexer) token() (token, error) {
	start := l.pos
	r, size := utf8.DecodeRuneInString(l.src[l.pos:])
	switch {
	case r == '_' || unicode.IsLetter(r):
		for l.pos < len(l.src) {
			r, size := utf8.DecodeRuneInString(l.src[l.pos:])
			if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			l.pos += size
		}
		word := l.src[start:l.pos]
		if l.pos < len(l.src) && (l.src[l.pos] == '\'' || l.src[l.pos] == '"') && isStringPrefix(word) {
			return l.str(start, strings.ToLower(word))
		}
		return token{kind: tokName, text: word, line: l.line, pos: start, end: l.pos}, nil
	case r >= '0' && r <= '9' || r == '.' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1]):
		return l.number()
	case r == '\'' || r == '"':
		return l.str(start, "")
	}
	t := token{kind: tokOp, line: l.line, pos: start}
	// Two-character operators are read whole so that errors name them as written.
	switch op := l.src[l.pos:min(l.pos+2, len(l.src))]; op {
	case "+=", "-=", "*=", "/=", "%=", "**", "//", "==", "!=", "<=", ">=", ":=", "->", "<<", ">>":
		l.pos += 2
		t.text, t.end = op, l.pos
		return t, nil
	}
	if !strings.ContainsRune("()[]{},:.;=+-*/%@<>!~&|^", r) {
		return t, l.errAt(l.line, "unexpected character %q", r)
	}
	l.pos += size
	t.text, t.end = string(r), l.pos
	switch r {
	case '(', '[', '{':
		l.open = append(l.open, t)
	case ')', ']', '}':
		if len(l.open) == 0 {
			return t, l.errAt(l.line, "`%c` closes nothing", r)
		}
		o := l.open[len(l.open)-1]
		if want := map[string]rune{"(": ')', "[": ']', "{": '}'}[o.text]; want != r {
			return t, l.errAt(l.line, "`%c` does not match `%s` opened at line %d", r, o.text, o.line)
		}
		l.open = l.open[:len(l.open)-1]
	}
	return t, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isStringPrefix(w string) bool {
	switch strings.ToLower(w) {
	case "r", "u", "b", "br", "rb", "f", "fr", "rf":
		return true
	}
	return false
}

// number reads an int (decimal, 0x, 0o, 0b, with underscores) or a float.
func (l *lexer) number() (token, error) {
	start := l.pos
	digits := func(ok func(byte) bool) {
		for l.pos < len(l.src) && (ok(l.src[l.pos]) || l.src[l.pos] == '_') {
			l.pos++
		}
	}
	isFloat, base := false, 10
	if rest := l.src[l.pos:]; len(rest) > 1 && rest[0] == '0' && strings.ContainsRune("xXoObB", rune(rest[1])) {
		base = map[byte]int{'x': 16, 'o': 8, 'b': 2}[rest[1]|0x20]
		l.pos += 2
		digits(func(c byte) bool { return isHexDigit(c) })
	} else {
		digits(isDigit)
		if l.pos < len(l.src) && l.src[l.pos] == '.' {
			isFloat = true
			l.pos++
			digits(isDigit)
		}
		if l.pos < len(l.src) && (l.src[l.pos] == 'e' || l.src[l.pos] == 'E') {
			isFloat = true
			l.pos++
			if l.pos < len(l.src) && (l.src[l.pos] == '+' || l.src[l.pos] == '-') {
				l.pos++
			}
			digits(isDigit)
		}
	}
	text := l.src[start:l.pos]
	if l.pos < len(l.src) {
		if c := l.src[l.pos]; c == 'j' || c == 'J' {
			return token{}, l.errAt(l.line, "complex number %sj is not supported", text)
		}
		if r, _ := utf8.DecodeRuneInString(l.src[l.pos:]); r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			return token{}, l.errAt(l.line, "invalid number %q", text+string(r))
		}
	}
	t := token{kind: tokNumber, text: text, line: l.line, pos: start, end: l.pos}
	v, err := numberValue(text, base, isFloat)
	if err != nil {
		return t, l.errAt(l.line, "%v", err)
	}
	t.value = v
	return t, nil
}

func isHexDigit(c byte) bool { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

// numberValue checks Python's rules (an underscore only between digits, no leading zeros
// on decimal ints) and converts.
func numberValue(text string, base int, isFloat bool) (any, error) {
	body := text
	if base != 10 {
		body = text[2:]
	}
	for i := 0; i < len(body); i++ {
		if body[i] != '_' {
			continue
		}
		digit := isDigit
		if base == 16 {
			digit = isHexDigit
		}
		prevOK := i > 0 && digit(body[i-1]) || i == 0 && base != 10
		if !prevOK || i+1 >= len(body) || !digit(body[i+1]) {
			return nil, fmt.Errorf("invalid number %q (an underscore goes between digits)", text)
		}
	}
	clean := strings.ReplaceAll(body, "_", "")
	if isFloat {
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid number %q", text)
		}
		return f, nil
	}
	if clean == "" {
		return nil, fmt.Errorf("invalid number %q", text)
	}
	if base == 10 && len(clean) > 1 && clean[0] == '0' && strings.Trim(clean, "0") != "" {
		return nil, fmt.Errorf("invalid number %q (leading zeros are not allowed; octal is written 0o%s)", text, strings.TrimLeft(clean, "0"))
	}
	n, err := strconv.ParseInt(clean, base, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return nil, fmt.Errorf("integer %s does not fit in 64 bits", text)
		}
		return nil, fmt.Errorf("invalid number %q", text)
	}
	return n, nil
}

// str reads a string literal whose prefix (lower case) ends at l.pos.
func (l *lexer) str(start int, prefix string) (token, error) {
	line := l.line
	if strings.Contains(prefix, "f") {
		return token{}, l.errAt(line, "f-strings are not supported (they run Python code); write the text out")
	}
	raw, isBytes := strings.Contains(prefix, "r"), strings.Contains(prefix, "b")
	q := l.src[l.pos]
	delim := string(q)
	if strings.HasPrefix(l.src[l.pos:], strings.Repeat(delim, 3)) {
		delim = strings.Repeat(delim, 3)
	}
	l.pos += len(delim)
	var out []byte
	for {
		if l.pos >= len(l.src) {
			return token{}, l.errAt(line, "string is never closed (it should end with %s)", delim)
		}
		if strings.HasPrefix(l.src[l.pos:], delim) {
			l.pos += len(delim)
			break
		}
		c := l.src[l.pos]
		switch {
		case c == '\n' && len(delim) == 1:
			return token{}, l.errAt(line, "string is never closed on its line (text over several lines goes in triple quotes)")
		case c == '\\' && raw:
			// A raw string keeps the backslash, but it still stops the quote after it.
			out = append(out, c)
			if l.pos+1 < len(l.src) {
				if l.src[l.pos+1] == '\n' {
					l.line++
				}
				out = append(out, l.src[l.pos+1])
			}
			l.pos += 2
			continue
		case c == '\\':
			var err error
			if out, err = l.escape(out, isBytes); err != nil {
				return token{}, err
			}
			continue
		case c == '\n':
			l.line++
		case c >= 0x80 && isBytes:
			return token{}, l.errAt(l.line, "bytes can only contain ASCII characters")
		}
		out = append(out, c)
		l.pos++
	}
	return token{kind: tokString, value: string(out), bytes: isBytes, line: line, pos: start, end: l.pos}, nil
}

// escape decodes the backslash escape at l.pos onto out. Unknown escapes such as \d are
// kept with their backslash, as Python keeps them (so '\d+' is the regexp \d+).
func (l *lexer) escape(out []byte, isBytes bool) ([]byte, error) {
	if l.pos+1 >= len(l.src) {
		return nil, l.errAt(l.line, "string is never closed")
	}
	c := l.src[l.pos+1]
	l.pos += 2
	if i := strings.IndexByte("\\'\"abfnrtv", c); i >= 0 {
		return append(out, "\\'\"\a\b\f\n\r\t\v"[i]), nil
	}
	hex := func(n int, what string) (rune, error) {
		if l.pos+n > len(l.src) {
			return 0, l.errAt(l.line, "invalid \\%s escape (needs %d hex digits)", what, n)
		}
		v, err := strconv.ParseUint(l.src[l.pos:l.pos+n], 16, 32)
		if err != nil || v > unicode.MaxRune {
			return 0, l.errAt(l.line, "invalid \\%s escape (needs %d hex digits)", what, n)
		}
		l.pos += n
		return rune(v), nil
	}
	switch {
	case c == '\n':
		l.line++
		return out, nil
	case c == '\r' && l.pos < len(l.src) && l.src[l.pos] == '\n':
		l.pos++
		l.line++
		return out, nil
	case c >= '0' && c <= '7':
		v := rune(c - '0')
		for i := 0; i < 2 && l.pos < len(l.src) && l.src[l.pos] >= '0' && l.src[l.pos] <= '7'; i++ {
			v = v*8 + rune(l.src[l.pos]-'0')
			l.pos++
		}
		if isBytes {
			return append(out, byte(v)), nil
		}
		return utf8.AppendRune(out, v), nil
	case c == 'x':
		v, err := hex(2, "x")
		if err != nil {
			return nil, err
		}
		if isBytes {
			return append(out, byte(v)), nil
		}
		return utf8.AppendRune(out, v), nil
	case c == 'u' && !isBytes:
		v, err := hex(4, "u")
		return utf8.AppendRune(out, v), err
	case c == 'U' && !isBytes:
		v, err := hex(8, "U")
		return utf8.AppendRune(out, v), err
	case c == 'N' && !isBytes:
		return nil, l.errAt(l.line, "\\N{...} escapes are not supported; write the character or \\u escape")
	}
	return append(out, '\\', c), nil
}
