package controller

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"ipcluster/runtime/wire"
)

// compileQuery turns a MongoDB-style query, as Client.db_query sends it, into a predicate.
// A plain value means equality; a dict holds operators: $lt $gt $eq $ne $lte $gte $in $nin
// $all $mod $exists $glob. (DictDB in ipyparallel has $gt inverted; here it means greater than.)
func compileQuery(q map[string]any) (func(*Record) bool, error) {
	type test struct {
		key string
		f   func(any) bool
	}
	var tests []test
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		cond := q[key]
		ops, isOps := cond.(map[string]any)
		if !isOps {
			want := cond
			tests = append(tests, test{key, func(v any) bool { return equal(v, want) }})
			continue
		}
		for op, arg := range ops {
			f, err := operator(op, arg)
			if err != nil {
				return nil, fmt.Errorf("query on %q: %w", key, err)
			}
			tests = append(tests, test{key, f})
		}
	}
	return func(r *Record) bool {
		for _, t := range tests {
			if !t.f(r.value(t.key)) {
				return false
			}
		}
		return true
	}, nil
}

func operator(op string, arg any) (func(any) bool, error) {
	cmp := func(ok func(int) bool) func(any) bool {
		return func(v any) bool {
			c, comparable := compare(v, arg)
			return comparable && ok(c)
		}
	}
	switch op {
	case "$lt":
		return cmp(func(c int) bool { return c < 0 }), nil
	case "$lte":
		return cmp(func(c int) bool { return c <= 0 }), nil
	case "$gt":
		return cmp(func(c int) bool { return c > 0 }), nil
	case "$gte":
		return cmp(func(c int) bool { return c >= 0 }), nil
	case "$eq":
		return func(v any) bool { return equal(v, arg) }, nil
	case "$ne":
		return func(v any) bool { return !equal(v, arg) }, nil
	case "$in", "$nin":
		list, ok := arg.([]any)
		if !ok {
			return nil, fmt.Errorf("%s needs a list", op)
		}
		in := func(v any) bool {
			for _, x := range list {
				if equal(v, x) {
					return true
				}
			}
			return false
		}
		if op == "$nin" {
			return func(v any) bool { return !in(v) }, nil
		}
		return in, nil
	case "$all":
		list, ok := arg.([]any)
		if !ok {
			return nil, fmt.Errorf("$all needs a list")
		}
		return func(v any) bool {
			have, ok := v.([]any)
			if !ok {
				return false
			}
			for _, want := range list {
				found := false
				for _, h := range have {
					if equal(h, want) {
						found = true
						break
					}
				}
				if !found {
					return false
				}
			}
			return true
		}, nil
	case "$mod":
		list, ok := arg.([]any)
		if !ok || len(list) != 2 {
			return nil, fmt.Errorf("$mod needs [divisor, remainder]")
		}
		d, ok1 := list[0].(float64)
		rem, ok2 := list[1].(float64)
		if !ok1 || !ok2 || d == 0 {
			return nil, fmt.Errorf("$mod needs two numbers and a non-zero divisor")
		}
		return func(v any) bool {
			n, ok := v.(float64)
			if !ok {
				return false
			}
			m := math.Mod(n, d)
			if m != 0 && (m < 0) != (d < 0) { // Python's modulo takes the divisor's sign
				m += d
			}
			return m == rem
		}, nil
	case "$glob": // ipyparallel 9.1, for labels: Python's fnmatch on strings
		pattern, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("$glob needs a pattern string")
		}
		re, err := globRegexp(pattern)
		if err != nil {
			return nil, err
		}
		return func(v any) bool {
			s, ok := v.(string)
			return ok && re.MatchString(s)
		}, nil
	case "$exists":
		want, _ := arg.(bool)
		return func(v any) bool { return (v != nil) == want }, nil
	}
	return nil, fmt.Errorf("unknown operator %s (supported: $lt $gt $eq $ne $lte $gte $in $nin $all $mod $exists $glob)", op)
}

// globRegexp is a shell pattern as Python's fnmatch reads it: * any run of characters
// (slashes too), ? one character, [seq] and [!seq] a set; a [ without its ] is itself.
func globRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	p := []rune(pattern)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := i + 1
			if j < len(p) && p[j] == '!' {
				j++
			}
			if j < len(p) && p[j] == ']' {
				j++
			}
			for j < len(p) && p[j] != ']' {
				j++
			}
			if j >= len(p) {
				b.WriteString(`\[`)
				continue
			}
			set := p[i+1 : j]
			b.WriteByte('[')
			if len(set) > 0 && set[0] == '!' {
				b.WriteByte('^')
				set = set[1:]
			}
			for k, r := range set {
				if r == '-' && k > 0 && k < len(set)-1 { // a range
					b.WriteRune(r)
					continue
				}
				if strings.ContainsRune(`\^[]-`, r) {
					b.WriteByte('\\')
				}
				b.WriteRune(r)
			}
			b.WriteByte(']')
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`\z`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("$glob pattern %q: %w", pattern, err)
	}
	return re, nil
}

// compare orders numbers numerically, timestamps chronologically and other strings
// lexically; other pairs are not comparable.
func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		if tx, err := wire.ParseDate(x); err == nil {
			if ty, err := wire.ParseDate(y); err == nil {
				return tx.Compare(ty), true
			}
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func equal(a, b any) bool {
	if c, ok := compare(a, b); ok {
		return c == 0
	}
	return reflect.DeepEqual(a, b)
}
