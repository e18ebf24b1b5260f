package traitconfig

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// value parses "c.A.b = <src>" and returns c.A.b.
func value(t *testing.T, src string) any {
	t.Helper()
	cfg, err := ParsePython("t.py", []byte("c.A.b = "+src+"\n"))
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	a, ok := cfg.Get("A", "b")
	if !ok {
		t.Fatalf("%s: c.A.b not set", src)
	}
	return a.Value
}

type literalCase struct {
	src  string
	want any
}

// parseLiteralCases are every literal form; TestCrossCheckWithTraitlets checks them with Python too.
func parseLiteralCases() []literalCase {
	return []literalCase{
		// strings
		{`'single'`, "single"},
		{`"double"`, "double"},
		{`''`, ""},
		{`"it's"`, "it's"},
		{`'say "hi"'`, `say "hi"`},
		{`'a\'b'`, "a'b"},
		{`'tab\there\nnew'`, "tab\there\nnew"},
		{`'\\d+'`, `\d+`},
		{`'\d+'`, `\d+`}, // Python keeps unknown escapes
		{`'(\d+)\.$'`, `(\d+)\.$`},
		{`r'\d+\n'`, `\d+\n`},
		{`R"C:\temp"`, `C:\temp`},
		{`r'\''`, `\'`},
		{`'\x41\101\u00e9\U0001F600'`, "AAé😀"},
		{`'\a\b\f\v\0'`, "\a\b\f\v\x00"},
		{`u'unicode'`, "unicode"},
		{`b'bytes'`, "bytes"},
		{`b'\x41\u0041'`, `A\u0041`},
		{`rb'\n'`, `\n`},
		{`'héllo'`, "héllo"},
		{`'a' 'b' "c"`, "abc"},
		{`'a' + 'b'`, "ab"},
		{`'''triple
quoted "x" 'y'
'''`, "triple\nquoted \"x\" 'y'\n"},
		{`"""a\
b"""`, "ab"},
		{`"""{n} engines in {queue}"""`, "{n} engines in {queue}"},
		{`('joined '
  'over lines')`, "joined over lines"},
		// numbers
		{`0`, int64(0)},
		{`42`, int64(42)},
		{`-7`, int64(-7)},
		{`+7`, int64(7)},
		{`- 7`, int64(-7)},
		{`--7`, int64(7)},
		{`1_000_000`, int64(1000000)},
		{`0x1F`, int64(31)},
		{`0o17`, int64(15)},
		{`0b101`, int64(5)},
		{`0x_ff`, int64(255)},
		{`00`, int64(0)},
		{`9223372036854775807`, int64(9223372036854775807)},
		{`1.5`, 1.5},
		{`-0.25`, -0.25},
		{`.5`, 0.5},
		{`5.`, 5.0},
		{`1e3`, 1000.0},
		{`1E-3`, 0.001},
		{`1_0.5e1_0`, 10.5e10},
		{`060.5`, 60.5},
		// constants
		{`True`, true},
		{`False`, false},
		{`None`, nil},
		// containers
		{`[]`, []any{}},
		{`[1, 'a', None, True, 2.5]`, []any{int64(1), "a", nil, true, 2.5}},
		{`[1, 2,]`, []any{int64(1), int64(2)}},
		{`()`, []any{}},
		{`(1,)`, []any{int64(1)}},
		{`(1)`, int64(1)},
		{`(1, 'x')`, []any{int64(1), "x"}},
		{`1, 2`, []any{int64(1), int64(2)}},
		{`'a',`, []any{"a"}},
		{`{}`, map[string]any{}},
		{`{'a': 1, "b": [2], 3: 'three'}`, map[string]any{"a": int64(1), "b": []any{int64(2)}, "3": "three"}},
		{`{'a': 1, 'a': 2}`, map[string]any{"a": int64(2)}},
		{`['a'] + ['b']`, []any{"a", "b"}},
		{`{'host': (1, ['--profile-dir', '/p']), 'h2': {'n': 3}}`,
			map[string]any{"host": []any{int64(1), []any{"--profile-dir", "/p"}}, "h2": map[string]any{"n": int64(3)}}},
		{`[
    '--hostfile', 'hosts',  # a comment inside the list
    # a comment line
    '--allow-run-as-root',
]`, []any{"--hostfile", "hosts", "--allow-run-as-root"}},
		{`{
    'a': [
        1,
        2,
    ],
    'b': (
        'x'
        'y',
    ),
}`, map[string]any{"a": []any{int64(1), int64(2)}, "b": []any{"xy"}}},
		{`\
    'continued'`, "continued"},
	}
}

func TestParseLiterals(t *testing.T) {
	for _, c := range parseLiteralCases() {
		if got := value(t, c.src); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s\n got %#v\nwant %#v", c.src, got, c.want)
		}
	}
}

func TestParseStatements(t *testing.T) {
	src := `# Configuration file for ipcluster.
"""A docstring is allowed."""
# -*- coding: utf-8 -*-

c = get_config()  # noqa
c=get_config()

# c.Commented.out = 1
c.Cluster.n = 4  # engines
c.A.x = 1; c.A.y = 2;
c.A.list = ['a']
c.A.list.append('b')
c.A.list += ['c', 'd']
c.A.list.extend(('e',))
c.A.list.prepend(['z'])
c.A.d = {'k': 1}
c.A.d.update({'j': 2, 'k': 3})
c.B.lazy.append('x')
c.B.lazy.extend(['y'])
c.B.upd.update({'a': 1})
c.B.over = 1
c.B.over = 'two'
`
	cfg, err := ParsePython("ipcluster_config.py", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	get := func(class, trait string) Assignment {
		a, ok := cfg.Get(class, trait)
		if !ok {
			t.Fatalf("c.%s.%s not set", class, trait)
		}
		return a
	}
	checks := []struct {
		class, trait string
		want         any
		line         int
	}{
		{"Cluster", "n", int64(4), 9},
		{"A", "x", int64(1), 10},
		{"A", "y", int64(2), 10},
		{"A", "list", []any{"z", "a", "b", "c", "d", "e"}, 15},
		{"A", "d", map[string]any{"k": int64(3), "j": int64(2)}, 17},
		{"B", "over", "two", 22},
	}
	for _, c := range checks {
		a := get(c.class, c.trait)
		if !reflect.DeepEqual(a.Value, c.want) || a.Lazy != nil || a.Source.String() != "ipcluster_config.py:"+itoa(c.line) {
			t.Errorf("c.%s.%s = %#v (lazy %v) from %s, want %#v from line %d", c.class, c.trait, a.Value, a.Lazy, a.Source, c.want, c.line)
		}
	}
	if l := get("B", "lazy"); l.Lazy == nil || !reflect.DeepEqual(l.Lazy.Extend, []any{"x", "y"}) {
		t.Errorf("lazy append: %+v", l.Lazy)
	}
	if u := get("B", "upd"); u.Lazy == nil || !reflect.DeepEqual(u.Lazy.Update, map[string]any{"a": int64(1)}) {
		t.Errorf("lazy update: %+v", u.Lazy)
	}
	if _, ok := cfg.Get("Commented", "out"); ok {
		t.Error("a commented-out default was read")
	}
	if n := len(cfg.Assignments()); n != 8 {
		t.Errorf("%d assignments, want 8", n)
	}
}

func TestParseFileShapes(t *testing.T) {
	for _, src := range []string{"", "\n\n", "# only a comment", "c = get_config()",
		"\ufeffc = get_config()\r\nc.A.b = 1\r\n", "c.A.b = 1 # no newline at the end"} {
		if _, err := ParsePython("t.py", []byte(src)); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
	cfg, err := ParsePython("t.py", []byte("\ufeffc.A.b = '''x\r\ny'''\r\n"))
	if a, _ := cfg.Get("A", "b"); err != nil || a.Value != "x\ny" {
		t.Errorf("CRLF in a triple-quoted string: %q %v", a.Value, err)
	}
	if _, err := parseJSON("t.json", []byte("\ufeff{\"A\": {\"b\": 1}}")); err != nil {
		t.Errorf("JSON with a byte-order mark: %v", err)
	}
}

func itoa(n int) string { return Source{Line: n}.String()[1:] }

func TestParseErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"c = get_config()\nimport os\n", "t.py:2: `import os` is not supported: config files are read here, not run by Python: they may hold only `c = get_config()`, `c.Class.trait = <literal>`, `c.Class.trait.append(<literal>)` (also extend, prepend, update) and `c.Class.trait += [...]`"},
		{"from os import path\n", "t.py:1: `from os import path` is not supported"},
		{"c.A.b = os.environ['HOME']\n", "t.py:1: c.A.b: `os.environ['HOME']` is not a literal (names are not supported); values must be literals: strings, numbers, True, False, None, and lists, tuples and dicts of them"},
		{"c.A.b = os.getenv('X')\n", "t.py:1: c.A.b: function calls (`os.getenv('X')`) are not supported"},
		{"c.A.b = dict(a=1)\n", "t.py:1: c.A.b: function calls (`dict(a=1)`) are not supported"},
		{"c.A.b = [\n  1,\n  x,\n]\n", "t.py:3: c.A.b: `x` is not a literal"},
		{"c.A.b = f'{n}'\n", "t.py:1: f-strings are not supported (they run Python code); write the text out"},
		{"c.A.b = 1 + 2\n", "t.py:1: c.A.b: + joins two strings or two lists, not an int and an int"},
		{"c.A.b = 2 * 3\n", "t.py:1: c.A.b: arithmetic and comparisons (`*`) are not supported; only unary minus, and + to join strings or lists"},
		{"c.A.b = 60 - 1\n", "t.py:1: c.A.b: arithmetic and comparisons (`-`) are not supported"},
		{"c.A.b = 'a' % 3\n", "t.py:1: c.A.b: arithmetic and comparisons (`%`) are not supported"},
		{"c.A.b = -'a'\n", "t.py:1: c.A.b: unary - needs a number, got 'a'"},
		{"c.A.b = 'x'.upper()\n", "t.py:1: c.A.b: `'x'.upper()` is not supported (no calls, indexing or attributes)"},
		{"c.A.b = [1 for i in y]\n", "t.py:1: c.A.b: `for` is not supported in a value"},
		{"c.A.b = 1 if x else 2\n", "t.py:1: c.A.b: `if` is not supported in a value"},
		{"c.A.b = {'a', 'b'}\n", "t.py:1: c.A.b: set literals ({a, b}) are not supported; use a list"},
		{"c.A.b = {1.5: 'x'}\n", "t.py:1: c.A.b: dict keys must be strings or integers, got 1.5"},
		{"c.A.b = {**d}\n", "t.py:1: c.A.b: `**` unpacking is not supported"},
		{"c.A.b = 1j\n", "t.py:1: complex number 1j is not supported"},
		{"c.A.b = 017\n", "t.py:1: invalid number \"017\" (leading zeros are not allowed; octal is written 0o17)"},
		{"c.A.b = 1__0\n", "t.py:1: invalid number \"1__0\" (an underscore goes between digits)"},
		{"c.A.b = 99999999999999999999\n", "t.py:1: integer 99999999999999999999 does not fit in 64 bits"},
		{"c.A.b = 'open\n", "t.py:1: string is never closed on its line (text over several lines goes in triple quotes)"},
		{"\n\nc.A.b = '''never\nclosed\n", "t.py:3: string is never closed (it should end with ''')"},
		{"c.A.b = [1,\n 2\n 3]\n", "t.py:3: c.A.b: expected `,` or `]` in the list opened on line 1, got `3`"},
		{"c.A.b = [1, 2\n\n", "t.py:1: `[` is never closed"},
		{"c.A.b = (1]\n", "t.py:1: `]` does not match `(` opened at line 1"},
		{"c.A.b = 1)\n", "t.py:1: `)` closes nothing"},
		{"c.A.b = \n", "t.py:1: c.A.b: expected a value, got end of line"},
		{"c.A.b = 1 2\n", "t.py:1: unexpected `2` after the statement"},
		{"c.A.b = '\\N{DASH}'\n", "t.py:1: \\N{...} escapes are not supported"},
		{"c.A.b = '\\x4'\n", "t.py:1: invalid \\x escape (needs 2 hex digits)"},
		{"c.A.b = b'é'\n", "t.py:1: bytes can only contain ASCII characters"},
		{"c.A.b = 'a' b'b'\n", "t.py:1: c.A.b: cannot join bytes and str literals"},
		{"c.A.b = $\n", "t.py:1: unexpected character '$'"},
		{"c = Config()\n", "t.py:1: `c = Config()` is not supported: `c` can only be `c = get_config()`"},
		{"c.n = 4\n", "t.py:1: c.n: expected c.Class.trait, with a class name that starts with a capital letter"},
		{"c.Cluster = 4\n", "t.py:1: c.Cluster: expected c.Cluster.trait = <literal>"},
		{"c.cluster.n = 4\n", "t.py:1: c.cluster: expected c.Class.trait, with a class name that starts with a capital letter"},
		{"c.Cluster.SlurmLauncher.account = 'x'\n", "t.py:1: c.Cluster.SlurmLauncher: nested config sections (c.Cluster.SlurmLauncher.account) are not supported"},
		{"c.A.b['k'] = 1\n", "t.py:1: c.A.b: item assignment (`c.A.b[...] = ...`) is not supported; assign the whole value"},
		{"c.A.b == 1\n", "t.py:1: c.A.b: expected `=` after c.A.b, got `==`"},
		{"c.A.b.insert(0, 'x')\n", "t.py:1: c.A.b: c.A.b.insert() is not supported; use append, extend, prepend or update"},
		{"c.A.b.extend('abc')\n", "t.py:1: c.A.b: extend() needs a list, got 'abc'"},
		{"c.A.b.update([1])\n", "t.py:1: c.A.b: update() needs a dict, got [1]"},
		{"c.A.b += 'x'\n", "t.py:1: c.A.b: += needs a list, got 'x'"},
		{"c.A.b.append(1, 2)\n", "t.py:1: c.A.b: append() takes one value; expected `)` for the `(` on line 1, got `2`"},
		{"c.A.b = 'text'\nc.A.b.append('x')\n", "t.py:2: c.A.b: cannot extend 'text', a str (not a list) (c.A.b is set at t.py:1)"},
		{"c.A.b = [1]\nc.A.b.update({'k': 1})\n", "t.py:2: c.A.b: cannot update a list (update is for dicts) (c.A.b is set at t.py:1)"},
		{"c.A.b.append(1)\nc.A.b.update({'k': 1})\n", "t.py:2: c.A.b: cannot both extend (a list) and update (a dict)"},
		{"  c.A.b = 1\n", "t.py:1: unexpected indentation"},
		{"if True:\n    c.A.b = 1\n", "t.py:1: `if True:` is not supported"},
		{"def f():\n    pass\n", "t.py:1: `def f():` is not supported"},
		{"x = 1\n", "t.py:1: `x = 1` is not supported"},
		{"load_subconfig('ipcluster_config.py')\n", "t.py:1: `load_subconfig('ipcluster_config.py')` is not supported"},
		{"c.A.b = 1\nc.A.c = '\xff'\n", "t.py:2: not UTF-8 text (Python reads config files as UTF-8)"},
		{"c.A.b = 1 \\ 2\n", "t.py:1: unexpected `\\` (a backslash only continues a line at its end)"},
	}
	for _, c := range cases {
		_, err := ParsePython("t.py", []byte(c.src))
		var ce *Error
		if err == nil || !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q\n got %v\nwant %s", c.src, err, c.want)
		}
	}
}

func TestParseLiteral(t *testing.T) {
	for in, want := range map[string]any{
		"500": int64(500), "0.5": 0.5, "True": true, "None": nil, "'a b'": "a b", "-3": int64(-3),
		"[1, 'x']": []any{int64(1), "x"}, "('a', 'b')": []any{"a", "b"}, "{'k': [1]}": map[string]any{"k": []any{int64(1)}},
		" 7 ": int64(7), "1, 2": []any{int64(1), int64(2)},
	} {
		got, err := parseLiteral(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseLiteral(%q) = %#v, %v; want %#v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "plain", "/usr/bin/python3", "--debug", "01:00:00", "a b", "1\n2", "'unclosed", "os.sep"} {
		if v, err := parseLiteral(in); err == nil {
			t.Errorf("parseLiteral(%q) = %#v, want an error", in, v)
		}
	}
}

func TestLiteralRoundTrip(t *testing.T) {
	cases := map[string]any{
		"'it\\'s \"quoted\"'": `it's "quoted"`,
		"\"it's\"":            "it's",
		"'a\\nb\\t\\\\'":      "a\nb\t\\",
		"'\\x00é'":            "\x00é",
		"0.1":                 0.1,
		"1.0":                 1.0,
		"1e+16":               1e16,
		"1234567890123456.0":  1234567890123456.0,
		"1e-05":               0.00001,
		"-3":                  int64(-3),
		"True":                true,
		"None":                nil,
		"[1, 'a', [2.5]]":     []any{int64(1), "a", []any{2.5}},
		"{'a': 1, 'b': None}": map[string]any{"b": nil, "a": int64(1)},
	}
	for want, v := range cases {
		if got := Literal(v); got != want {
			t.Errorf("Literal(%#v) = %s, want %s", v, got, want)
		}
		if back, err := parseLiteral(Literal(v)); err != nil || !reflect.DeepEqual(back, v) {
			t.Errorf("parseLiteral(Literal(%#v)) = %#v, %v", v, back, err)
		}
	}
	if got := Literal([]string{"a", "b"}); got != "['a', 'b']" {
		t.Errorf("Literal([]string) = %s", got)
	}
}

// FuzzParsePython checks that no input makes the parser panic, and that what it accepts
// prints back (Literal) as something it reads to the same value.
func FuzzParsePython(f *testing.F) {
	for _, c := range parseLiteralCases() {
		f.Add("c.A.b = " + c.src + "\n")
	}
	f.Add("c = get_config()\nc.A.b.append([1, {'k': (2,)}])\nc.A.c += ['x']\n")
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := ParsePython("f.py", []byte(src))
		if err != nil {
			return
		}
		for _, a := range cfg.Assignments() {
			if a.Lazy != nil || !validText(a.Value) {
				continue // bytes literals hold bytes that a str literal cannot
			}
			back, err := parseLiteral(Literal(a.Value))
			if err != nil || !reflect.DeepEqual(back, a.Value) {
				if f, ok := a.Value.(float64); ok && f != f { // NaN is never equal
					continue
				}
				t.Errorf("%q: %s = %#v prints as %s, reads back as %#v (%v)", src, a.Name(), a.Value, Literal(a.Value), back, err)
			}
		}
	})
}

func validText(v any) bool {
	switch v := v.(type) {
	case string:
		return utf8.ValidString(v)
	case []any:
		for _, x := range v {
			if !validText(x) {
				return false
			}
		}
	case map[string]any:
		for k, x := range v {
			if !utf8.ValidString(k) || !validText(x) {
				return false
			}
		}
	}
	return true
}
