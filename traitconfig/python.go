package traitconfig

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"ipcluster/pyfind"
)

// Config files are Python. A *_config.py file is first read by ParsePython, which knows the
// literal subset and gives what Python would without starting one; only a file beyond that
// subset (imports, loops, os.environ) is run by a Python with traitlets, with traitlets' own
// loader, exactly as ipyparallel runs it, and its assignments come back as JSON. Without such
// a Python, such a file is an error naming the line and how to get one.

//go:embed pyconfig_eval.py
var pyConfigEval string

// evalTimeout bounds one config file's evaluation: a file that waits for input or a network
// must not hang ipcluster without a word.
const evalTimeout = 2 * time.Minute

// configPython returns the Python that evaluates config files, or an error saying why there
// is none. The search happens once per process (pyfind caches it).
func configPython() (string, error) { return pyfind.Find("traitlets") }

// pyResult is what pyconfig_eval.py writes.
type pyResult struct {
	Assignments []pyAssignment `json:"assignments"`
	Error       *struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Message string `json:"message"`
	} `json:"error"`
}

type pyAssignment struct {
	Class string          `json:"class"`
	Trait string          `json:"trait"`
	Value json.RawMessage `json:"value"`
	Lazy  json.RawMessage `json:"lazy"`
	File  string          `json:"file"`
	Line  int             `json:"line"`
	Error string          `json:"error"`
}

// evalPython runs the config file at path with python and traitlets' loader. Errors in the
// file come back as an *Error naming file:line and Python's message.
func evalPython(python, path string) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", path, err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), evalTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", pyConfigEval, abs)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	cmd.ExtraFiles = []*os.File{w} // file descriptor 3: the result
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("evaluate %s with %s: %w", path, python, err)
	}
	w.Close()
	var res pyResult
	decodeErr := json.NewDecoder(r).Decode(&res)
	waitErr := cmd.Wait()
	// What the file printed is shown, as running it under ipyparallel would show it.
	os.Stderr.Write(output.Bytes())
	switch {
	case ctx.Err() != nil:
		return nil, &Error{Source{Name: path}, fmt.Sprintf("evaluating the file with %s took longer than %s", python, evalTimeout)}
	case decodeErr != nil || waitErr != nil:
		return nil, &Error{Source{Name: path}, fmt.Sprintf("%s could not evaluate the file (%v): %s",
			python, errors.Join(waitErr, decodeErr), lastLine(output.String()))}
	case res.Error != nil:
		return nil, &Error{Source{displayPath(path, abs, res.Error.File), res.Error.Line}, res.Error.Message}
	}
	cfg := &Config{}
	for _, a := range res.Assignments {
		src := Source{displayPath(path, abs, a.File), a.Line}
		name := "c." + a.Class + "." + a.Trait
		if a.Error != "" {
			return nil, &Error{src, a.Error}
		}
		as := Assignment{Class: a.Class, Trait: a.Trait, Source: src}
		if len(a.Lazy) > 0 {
			l, err := lazyFromPython(a.Lazy)
			if err != nil {
				return nil, &Error{src, name + ": " + err.Error()}
			}
			as.Lazy = l
		} else {
			v, err := decodeJSONValue(a.Value)
			if err != nil {
				return nil, &Error{src, name + ": " + err.Error()}
			}
			as.Value = v
		}
		cfg.put(as)
	}
	return cfg, nil
}

// displayPath names file as the caller named the main config file (a relative path stays
// relative), and other files (load_subconfig) by their own path.
func displayPath(given, abs, file string) string {
	if file == "" || file == abs {
		return given
	}
	return file
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return last
	}
	return "no output"
}

// decodeJSONValue reads one JSON value as plain config data (int64 for whole numbers).
func decodeJSONValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return fromJSON(v)
}

// lazyFromPython reads a LazyConfigValue's changes: {"extend": [...], "prepend": [...],
// "inserts": [[index, value], ...], "update": {...}, "add": [...]}.
func lazyFromPython(raw json.RawMessage) (*Lazy, error) {
	v, err := decodeJSONValue(raw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("unexpected pending change %s", raw)
	}
	list := func(key string) []any { l, _ := m[key].([]any); return l }
	l := &Lazy{Extend: list("extend"), Prepend: list("prepend"), Add: list("add")}
	if u, ok := m["update"].(map[string]any); ok {
		l.Update = u
	}
	for _, in := range list("inserts") {
		pair, _ := in.([]any)
		if len(pair) != 2 {
			return nil, fmt.Errorf("unexpected insert %s", Literal(in))
		}
		idx, ok := pair[0].(int64)
		if !ok {
			return nil, fmt.Errorf("insert() needs an integer index, got %s", Literal(pair[0]))
		}
		l.Inserts = append(l.Inserts, Insert{Index: int(idx), Value: pair[1]})
	}
	return l, nil
}

// parsePythonFile reads a config file with the literal parser when it can, which gives what
// Python would give without starting one (an engine reads its config at every start), and
// otherwise has Python evaluate it. Without a Python, what the literal parser cannot read
// is an error saying how to get one.
func parsePythonFile(path string, src []byte) (*Config, error) {
	cfg, litErr := ParsePython(path, src)
	if litErr == nil {
		return cfg, nil
	}
	python, err := configPython()
	if err != nil {
		var ce *Error
		if errors.As(litErr, &ce) {
			return nil, &Error{ce.Source, ce.Msg + "; " + needPythonHint(err)}
		}
		return nil, litErr
	}
	return evalPython(python, path)
}

// needPythonHint says that the line needs Python, why none was used, and how to get one.
func needPythonHint(why error) string {
	return fmt.Sprintf("evaluating it needs python3 with traitlets (%v): install it (Debian: apt-get install python3-traitlets) "+
		"or set %s to such a python", why, pyfind.EnvVar)
}
