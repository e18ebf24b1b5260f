package traitconfig

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// What the Python subset allows, said in every error about something outside it: users
// write these files for Python, so the message has to explain why Python code is refused.
const (
	stmtHelp = "config files are read here, not run by Python: they may hold only `c = get_config()`, " +
		"`c.Class.trait = <literal>`, `c.Class.trait.append(<literal>)` (also extend, prepend, update) and `c.Class.trait += [...]`"
	literalHelp = "values must be literals: strings, numbers, True, False, None, and lists, tuples and dicts of them"
)

// ParsePython reads a Python config file (ipcluster_config.py and the like) that sticks
// to literal assignments; name is used in errors. Anything else is an error naming
// name:line, what is not supported and what is.
func ParsePython(name string, src []byte) (*Config, error) {
	// Python reads CRLF files and a leading UTF-8 byte-order mark (editors on Windows).
	text := strings.ReplaceAll(strings.TrimPrefix(string(src), "\ufeff"), "\r\n", "\n")
	if !utf8.ValidString(text) {
		bad := len(text)
		for i, r := range text {
			if r == utf8.RuneError {
				bad = i
				break
			}
		}
		return nil, &Error{Source{name, 1 + strings.Count(text[:bad], "\n")}, "not UTF-8 text (Python reads config files as UTF-8)"}
	}
	toks, err := lex(name, text)
	if err != nil {
		return nil, err
	}
	p := &parser{name: name, src: text, toks: toks, cfg: &Config{}}
	for p.peek().kind != tokEOF {
		if p.peek().kind == tokNewline {
			p.next()
			continue
		}
		if err := p.statement(); err != nil {
			return nil, err
		}
	}
	return p.cfg, nil
}

// parseLiteral reads one Python literal (the value side of c.Class.trait = ...), as
// traitlets reads --Class.trait=value from the command line.
func parseLiteral(s string) (any, error) {
	toks, err := lex("value", s)
	if err != nil {
		return nil, err
	}
	p := &parser{name: "value", src: s, toks: toks}
	if k := p.peek().kind; k == tokNewline || k == tokEOF {
		return nil, p.errf(p.peek(), "no value")
	}
	v, err := p.exprList()
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tokNewline {
		p.next()
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errf(t, "unexpected %s after the value", p.describe(t))
	}
	return v, nil
}

type parser struct {
	name string
	src  string
	toks []token
	i    int
	cfg  *Config
	ctx  string // the c.Class.trait being assigned, to start value errors with
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func isOp(t token, op string) bool { return t.kind == tokOp && t.text == op }

func (p *parser) errf(t token, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if p.ctx != "" {
		msg = p.ctx + ": " + msg
	}
	return &Error{Source{p.name, t.line}, msg}
}

// describe names a token for "unexpected ..." messages.
func (p *parser) describe(t token) string {
	switch t.kind {
	case tokNewline:
		return "end of line"
	case tokEOF:
		return "end of file"
	}
	return "`" + clip(p.src[t.pos:t.end]) + "`"
}

// lineText is the rest of t's line, to quote a statement that is not supported.
func (p *parser) lineText(t token) string {
	end := strings.IndexByte(p.src[t.pos:], '\n')
	if end < 0 {
		end = len(p.src) - t.pos
	}
	return clip(strings.TrimSpace(p.src[t.pos : t.pos+end]))
}

func clip(s string) string {
	if utf8.RuneCountInString(s) > 60 {
		return string([]rune(s)[:57]) + "..."
	}
	return s
}

func (p *parser) statement() error {
	if t := p.peek(); t.indent {
		return p.errf(t, "unexpected indentation")
	}
	for {
		p.ctx = ""
		if err := p.simple(); err != nil {
			return err
		}
		p.ctx = ""
		if !isOp(p.peek(), ";") {
			break
		}
		p.next()
		if k := p.peek().kind; k == tokNewline || k == tokEOF {
			break
		}
	}
	if t := p.next(); t.kind != tokNewline && t.kind != tokEOF {
		return p.errf(t, "unexpected %s after the statement", p.describe(t))
	}
	return nil
}

func (p *parser) simple() error {
	t := p.peek()
	switch {
	case t.kind == tokString:
		_, err := p.expr() // a docstring: a statement that does nothing
		return err
	case t.kind == tokName && t.text == "c":
		return p.assignment()
	}
	return p.errf(t, "`%s` is not supported: %s", p.lineText(t), stmtHelp)
}

// assignment reads c = get_config() or an assignment to c.Class.trait.
func (p *parser) assignment() error {
	c := p.next()
	if isOp(p.peek(), "=") {
		p.next()
		if f := p.next(); f.kind == tokName && f.text == "get_config" && isOp(p.next(), "(") && isOp(p.next(), ")") {
			return nil
		}
		return p.errf(c, "`%s` is not supported: `c` can only be `c = get_config()`; %s", p.lineText(c), stmtHelp)
	}
	var class, trait token
	if !isOp(p.next(), ".") {
		return p.errf(c, "`%s` is not supported: %s", p.lineText(c), stmtHelp)
	}
	if class = p.next(); class.kind != tokName {
		return p.errf(class, "expected c.Class.trait, got %s", p.describe(class))
	}
	if r, _ := utf8.DecodeRuneInString(class.text); !unicode.IsUpper(r) {
		return p.errf(class, "c.%s: expected c.Class.trait, with a class name that starts with a capital letter", class.text)
	}
	if !isOp(p.next(), ".") {
		return p.errf(class, "c.%s: expected c.%[1]s.trait = <literal>", class.text)
	}
	if trait = p.next(); trait.kind != tokName {
		return p.errf(trait, "c.%s: expected c.%[1]s.trait, got %s", class.text, p.describe(trait))
	}
	p.ctx = "c." + class.text + "." + trait.text
	a := Assignment{Class: class.text, Trait: trait.text, Source: Source{p.name, c.line}}
	op := p.next()
	switch {
	case isOp(op, "="):
		v, err := p.exprList()
		if err != nil {
			return err
		}
		a.Value = v
	case isOp(op, "+="):
		v, err := p.exprList()
		if err != nil {
			return err
		}
		l, ok := v.([]any)
		if !ok {
			return p.errf(op, "+= needs a list, got %s", Literal(v))
		}
		a.Lazy = &Lazy{Extend: l}
	case isOp(op, "."):
		l, err := p.method()
		if err != nil {
			return err
		}
		a.Lazy = l
	case isOp(op, "["):
		return p.errf(op, "item assignment (`%s[...] = ...`) is not supported; assign the whole value", p.ctx)
	default:
		return p.errf(op, "expected `=` after %s, got %s", p.ctx, p.describe(op))
	}
	return p.cfg.apply(a)
}

// method reads .append(v), .extend(l), .prepend(l) or .update(d) after c.Class.trait.
func (p *parser) method() (*Lazy, error) {
	m := p.next()
	if m.kind != tokName {
		return nil, p.errf(m, "expected a method name, got %s", p.describe(m))
	}
	if !isOp(p.peek(), "(") {
		return nil, p.errf(m, "nested config sections (%s.%s) are not supported; expected c.Class.trait = <literal>", p.ctx, m.text)
	}
	switch m.text {
	case "append", "extend", "prepend", "update":
	default:
		return nil, p.errf(m, "%s.%s() is not supported; use append, extend, prepend or update", p.ctx, m.text)
	}
	open := p.next()
	v, err := p.expr()
	if err != nil {
		return nil, err
	}
	if isOp(p.peek(), ",") {
		p.next()
	}
	if t := p.next(); !isOp(t, ")") {
		return nil, p.errf(t, "%s() takes one value; expected `)` for the `(` on line %d, got %s", m.text, open.line, p.describe(t))
	}
	l, isList := v.([]any)
	d, isDict := v.(map[string]any)
	switch {
	case m.text == "append":
		return &Lazy{Extend: []any{v}}, nil
	case m.text == "extend" && isList:
		return &Lazy{Extend: l}, nil
	case m.text == "prepend" && isList:
		return &Lazy{Prepend: l}, nil
	case m.text == "update" && isDict:
		return &Lazy{Update: d}, nil
	case m.text == "update":
		return nil, p.errf(m, "update() needs a dict, got %s", Literal(v))
	}
	return nil, p.errf(m, "%s() needs a list, got %s", m.text, Literal(v))
}
