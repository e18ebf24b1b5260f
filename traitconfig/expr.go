package traitconfig

import (
	"fmt"
	"strconv"
	"strings"
)

// The value side of an assignment: Python literals, unary minus, + joining strings or
// lists. Everything else gets an error that quotes it and says what a value may be.

// exprList reads a value, or several separated by commas (a tuple without parentheses).
func (p *parser) exprList() (any, error) {
	v, err := p.expr()
	if err != nil || !isOp(p.peek(), ",") {
		return v, err
	}
	items := []any{v}
	for isOp(p.peek(), ",") {
		p.next()
		if t := p.peek(); t.kind == tokNewline || t.kind == tokEOF || isOp(t, ";") {
			break
		}
		if v, err = p.expr(); err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	return items, nil
}

// expr reads a literal, unary minus, and + between strings or between lists.
func (p *parser) expr() (any, error) {
	v, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case isOp(t, "+"):
			p.next()
			r, err := p.unary()
			if err != nil {
				return nil, err
			}
			if v, err = join(v, r); err != nil {
				return nil, p.errf(t, "%v", err)
			}
			continue
		case t.kind == tokOp && strings.Contains(" - * / // % ** @ << >> & | ^ < > == != <= >= ", " "+t.text+" "):
			return nil, p.errf(t, "arithmetic and comparisons (`%s`) are not supported; only unary minus, and + to join strings or lists", t.text)
		case t.kind == tokName && strings.Contains(" if else for and or not in is lambda ", " "+t.text+" "):
			return nil, p.errf(t, "`%s` is not supported in a value; %s", t.text, literalHelp)
		}
		return v, nil
	}
}

func join(a, b any) (any, error) {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return x + y, nil
		}
	case []any:
		if y, ok := b.([]any); ok {
			return append(append([]any{}, x...), y...), nil
		}
	}
	return nil, fmt.Errorf("+ joins two strings or two lists, not %s and %s", aType(a), aType(b))
}

func (p *parser) unary() (any, error) {
	t := p.peek()
	if !isOp(t, "-") && !isOp(t, "+") {
		return p.atom()
	}
	p.next()
	v, err := p.unary()
	if err != nil {
		return nil, err
	}
	switch n := v.(type) {
	case int64:
		if t.text == "-" {
			return -n, nil
		}
		return n, nil
	case float64:
		if t.text == "-" {
			return -n, nil
		}
		return n, nil
	}
	return nil, p.errf(t, "unary %s needs a number, got %s", t.text, Literal(v))
}

func (p *parser) atom() (v any, err error) {
	start := p.i
	t := p.next()
	switch {
	case t.kind == tokString:
		s := t.value.(string)
		for p.peek().kind == tokString { // adjacent literals join: 'a' 'b' == 'ab'
			n := p.next()
			if n.bytes != t.bytes {
				return nil, p.errf(n, "cannot join bytes and str literals")
			}
			s += n.value.(string)
		}
		v = s
	case t.kind == tokNumber:
		v = t.value
	case t.kind == tokName && t.text == "True":
		v = true
	case t.kind == tokName && t.text == "False":
		v = false
	case t.kind == tokName && t.text == "None":
		v = nil
	case t.kind == tokName:
		what := p.primary(start)
		if start+1 < len(p.toks) && isOp(p.toks[start+1], "(") || strings.HasSuffix(what, ")") {
			return nil, p.errf(t, "function calls (`%s`) are not supported; %s", what, literalHelp)
		}
		return nil, p.errf(t, "`%s` is not a literal (names are not supported); %s", what, literalHelp)
	case isOp(t, "["):
		v, err = p.list(t)
	case isOp(t, "("):
		v, err = p.tuple(t)
	case isOp(t, "{"):
		v, err = p.dict(t)
	default:
		return nil, p.errf(t, "expected a value, got %s", p.describe(t))
	}
	if err != nil {
		return nil, err
	}
	if n := p.peek(); isOp(n, "(") || isOp(n, "[") || isOp(n, ".") {
		return nil, p.errf(n, "`%s` is not supported (no calls, indexing or attributes); %s", p.primary(start), literalHelp)
	}
	return v, nil
}

func (p *parser) list(open token) (any, error) {
	items := []any{}
	for {
		if isOp(p.peek(), "]") {
			p.next()
			return items, nil
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		switch t := p.next(); {
		case isOp(t, "]"):
			return items, nil
		case !isOp(t, ","):
			return nil, p.errf(t, "expected `,` or `]` in the list opened on line %d, got %s", open.line, p.describe(t))
		}
	}
}

// tuple reads what follows "(": (), (v) which is just v, or (v,) and (a, b, ...).
func (p *parser) tuple(open token) (any, error) {
	if isOp(p.peek(), ")") {
		p.next()
		return []any{}, nil
	}
	v, err := p.expr()
	if err != nil {
		return nil, err
	}
	if isOp(p.peek(), ")") {
		p.next()
		return v, nil
	}
	items := []any{v}
	for isOp(p.peek(), ",") {
		p.next()
		if isOp(p.peek(), ")") {
			break
		}
		if v, err = p.expr(); err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	if t := p.next(); !isOp(t, ")") {
		return nil, p.errf(t, "expected `,` or `)` in the tuple opened on line %d, got %s", open.line, p.describe(t))
	}
	return items, nil
}

func (p *parser) dict(open token) (any, error) {
	m := map[string]any{}
	for {
		if isOp(p.peek(), "}") {
			p.next()
			return m, nil
		}
		kt := p.peek()
		if isOp(kt, "**") {
			return nil, p.errf(kt, "`**` unpacking is not supported; %s", literalHelp)
		}
		k, err := p.expr()
		if err != nil {
			return nil, err
		}
		if t := p.next(); !isOp(t, ":") {
			if isOp(t, ",") || isOp(t, "}") {
				return nil, p.errf(t, "set literals ({a, b}) are not supported; use a list")
			}
			return nil, p.errf(t, "expected `:` after the key in the dict opened on line %d, got %s", open.line, p.describe(t))
		}
		var key string
		switch k := k.(type) {
		case string:
			key = k
		case int64:
			key = strconv.FormatInt(k, 10)
		default:
			return nil, p.errf(kt, "dict keys must be strings or integers, got %s", Literal(k))
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		m[key] = v
		switch t := p.next(); {
		case isOp(t, "}"):
			return m, nil
		case !isOp(t, ","):
			return nil, p.errf(t, "expected `,` or `}` in the dict opened on line %d, got %s", open.line, p.describe(t))
		}
	}
}

// primary quotes the expression that starts at token index from and goes on with
// attributes, calls and indexing (os.environ['HOME'], Path.home()), for errors.
func (p *parser) primary(from int) string {
	j := p.closing(from)
	for j+1 < len(p.toks) {
		n := p.toks[j+1]
		switch {
		case isOp(n, ".") && j+2 < len(p.toks) && p.toks[j+2].kind == tokName:
			j += 2
		case isOp(n, "(") || isOp(n, "["):
			j = p.closing(j + 1)
		default:
			return clip(p.src[p.toks[from].pos:p.toks[j].end])
		}
	}
	return clip(p.src[p.toks[from].pos:p.toks[j].end])
}

// closing returns the index of the bracket that closes the one at i (or i itself).
func (p *parser) closing(i int) int {
	depth := 0
	for j := i; j < len(p.toks); j++ {
		t := p.toks[j]
		if t.kind == tokOp && strings.Contains("([{", t.text) {
			depth++
		} else if t.kind == tokOp && strings.Contains(")]}", t.text) {
			depth--
		}
		if depth <= 0 {
			return j
		}
	}
	return len(p.toks) - 1
}
