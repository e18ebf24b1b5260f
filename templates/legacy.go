package templates

import (
	"fmt"
	"strconv"
	"strings"

	"ipcluster/internal/shellquote"
)

// LegacyVars are the variables ipyparallel (7.1 and 9.x) gives a batch template: n, queue,
// profile_dir, cluster_id, output_file, program, program_args, program_and_args,
// environment_json, and its Slurm launcher's account, qos, timelimit and options; here every
// scheduler has them (empty when unset, where ipyparallel fails), with walltime, memory, cores
// and job_name; then the namespace, which may override any of them.
func LegacyVars(d Data) map[string]any {
	cmd, args := d.CmdAndArgs()
	vars := map[string]any{
		"n": d.N, "queue": d.Queue, "profile_dir": d.ProfileDir, "cluster_id": d.ClusterID,
		"program": shellquote.Join(cmd), "program_args": shellquote.Join(args), "program_and_args": d.ProgramAndArgs(),
		"output_file": d.OutputFile, "environment_json": d.EnvJSON(), "account": d.Account, "qos": d.QoS,
		"timelimit": d.Walltime, "options": d.Options, "walltime": d.Walltime, "memory": d.Memory, "cores": d.Cores,
		"job_name": d.JobName,
	}
	for k, v := range d.Namespace {
		vars[k] = v
	}
	return vars
}

// RenderLegacy renders a template in ipyparallel's form: Python str.format fields with the
// simple expressions IPython's EvalFormatter allows on numbers ("{n}", "{n//4}", "{n/4}",
// "{n*2+1}"; "/" of ints that divide exactly gives an int, as in the Python 2 examples of
// ipyparallel's documentation), "{{" and "}}" for literal braces, and an optional ":spec" (ignored, except
// that it is not part of the name).
func RenderLegacy(text string, vars map[string]any) (string, error) {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '{' && i+1 < len(text) && text[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(text) && text[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(text[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("template: unclosed '{' at offset %d", i)
			}
			field := text[i+1 : i+end]
			if k := strings.IndexByte(field, ':'); k >= 0 {
				field = field[:k]
			}
			v, err := evalField(strings.TrimSpace(field), vars)
			if err != nil {
				return "", fmt.Errorf("template field {%s}: %w", field, err)
			}
			b.WriteString(v)
			i += end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// evalField evaluates name, or an arithmetic expression over numbers and numeric names
// with + - * / // %, left to right with the usual precedence.
func evalField(expr string, vars map[string]any) (string, error) {
	if v, ok := vars[expr]; ok {
		return fmt.Sprint(v), nil
	}
	toks, err := tokens(expr)
	if err != nil {
		return "", err
	}
	p := &parser{toks: toks, vars: vars}
	v, err := p.sum()
	if err != nil {
		return "", err
	}
	if p.pos != len(p.toks) {
		return "", fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return v.String(), nil
}

// num is a Python int or float.
type num struct {
	f       float64
	isFloat bool
}

func (n num) String() string {
	if !n.isFloat {
		return strconv.FormatInt(int64(n.f), 10)
	}
	s := strconv.FormatFloat(n.f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0" // Python prints 1.0 for 4/4
	}
	return s
}

func tokens(s string) ([]string, error) {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ':
			i++
		case strings.HasPrefix(s[i:], "//"):
			out = append(out, "//")
			i += 2
		case strings.ContainsRune("+-*/%()", rune(c)):
			out = append(out, string(c))
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '.' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			out = append(out, s[i:j])
			i = j
		default:
			return nil, fmt.Errorf("unsupported character %q", c)
		}
	}
	return out, nil
}

type parser struct {
	toks []string
	pos  int
	vars map[string]any
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) sum() (num, error) {
	l, err := p.product()
	for err == nil && (p.peek() == "+" || p.peek() == "-") {
		op := p.toks[p.pos]
		p.pos++
		var r num
		if r, err = p.product(); err == nil {
			if op == "+" {
				l = num{l.f + r.f, l.isFloat || r.isFloat}
			} else {
				l = num{l.f - r.f, l.isFloat || r.isFloat}
			}
		}
	}
	return l, err
}

func (p *parser) product() (num, error) {
	l, err := p.atom()
	for err == nil && strings.Contains("* / // %", p.peek()) && p.peek() != "" {
		op := p.toks[p.pos]
		p.pos++
		var r num
		if r, err = p.atom(); err != nil {
			break
		}
		if (op == "/" || op == "//" || op == "%") && r.f == 0 {
			return num{}, fmt.Errorf("division by zero")
		}
		switch op {
		case "*":
			l = num{l.f * r.f, l.isFloat || r.isFloat}
		case "/":
			// ipyparallel's documented templates ("nodes={n/4}") date from Python 2, where
			// this was integer division: an exact quotient of ints stays an int.
			exact := !l.isFloat && !r.isFloat && int64(l.f)%int64(r.f) == 0
			l = num{l.f / r.f, !exact}
		case "//":
			q := float64(int64(l.f / r.f))
			if q > l.f/r.f {
				q-- // floor, as Python
			}
			l = num{q, l.isFloat || r.isFloat}
		case "%":
			l = num{l.f - r.f*float64(int64(l.f/r.f)), l.isFloat || r.isFloat}
		}
	}
	return l, err
}

func (p *parser) atom() (num, error) {
	t := p.peek()
	p.pos++
	switch {
	case t == "":
		return num{}, fmt.Errorf("expression ends early")
	case t == "(":
		v, err := p.sum()
		if err == nil && p.peek() != ")" {
			err = fmt.Errorf("missing ')'")
		}
		p.pos++
		return v, err
	case t == "-":
		v, err := p.atom()
		return num{-v.f, v.isFloat}, err
	}
	if i, err := strconv.ParseInt(t, 10, 64); err == nil {
		return num{float64(i), false}, nil
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		return num{f, true}, nil
	}
	v, ok := p.vars[t]
	if !ok {
		return num{}, fmt.Errorf("name %q is not defined", t)
	}
	switch x := v.(type) {
	case int:
		return num{float64(x), false}, nil
	case int64:
		return num{float64(x), false}, nil
	case float64:
		return num{x, true}, nil
	case string:
		if i, err := strconv.ParseInt(x, 10, 64); err == nil {
			return num{float64(i), false}, nil
		}
	}
	return num{}, fmt.Errorf("%s is not a number", t)
}
