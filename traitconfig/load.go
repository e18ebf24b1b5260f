package traitconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// LoadFile reads one config file, Python (.py) or traitlets JSON (.json). A Python file
// that holds only literal assignments is read directly; any other Python is run by the
// Python that has traitlets (see configPython and evalPython), as ipyparallel runs it.
func LoadFile(path string) (*Config, error) {
	parse := map[string]func(string, []byte) (*Config, error){".py": parsePythonFile, ".json": parseJSON}[filepath.Ext(path)]
	if parse == nil {
		return nil, fmt.Errorf("config file %s: want a .py or .json file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := parse(path, data)
	if err != nil {
		return nil, err
	}
	c.files = []string{path}
	return c, nil
}

// parseJSON reads the traitlets JSON form {"Class": {"trait": value}} (with an optional
// "version": 1); name is used in errors, which give the line where the JSON tells it.
func parseJSON(name string, src []byte) (*Config, error) {
	cfg := &Config{}
	src = bytes.TrimPrefix(src, []byte("\ufeff"))
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	lineAt := func(off int64) int { return 1 + bytes.Count(src[:min(int(off), len(src))], []byte("\n")) }
	fail := func(err error) error {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return &Error{Source{name, lineAt(syn.Offset)}, "invalid JSON: " + err.Error()}
		case errors.As(err, &typ):
			return &Error{Source{name, lineAt(typ.Offset)}, "invalid JSON: " + err.Error()}
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return &Error{Source{name, lineAt(int64(len(src)))}, "invalid JSON: unexpected end of file"}
		}
		return &Error{Source{Name: name}, "invalid JSON: " + err.Error()}
	}
	// errAt reports a problem with the key just read.
	errAt := func(format string, args ...any) error {
		return &Error{Source{name, lineAt(dec.InputOffset())}, fmt.Sprintf(format, args...)}
	}
	if t, err := dec.Token(); err != nil {
		return nil, fail(err)
	} else if t != json.Delim('{') {
		return nil, errAt(`expected a JSON object {"Class": {"trait": value}}`)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fail(err)
		}
		class := t.(string)
		if class == "version" {
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, fail(err)
			}
			if v != json.Number("1") {
				return nil, errAt("unsupported config version %v (traitlets writes version 1)", v)
			}
			continue
		}
		if !isClassName(class) {
			return nil, errAt(`%q: expected a class name (starting with a capital letter) holding {"trait": value}`, class)
		}
		if t, err := dec.Token(); err != nil {
			return nil, fail(err)
		} else if t != json.Delim('{') {
			return nil, errAt(`%q must be an object of traits {"trait": value}`, class)
		}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return nil, fail(err)
			}
			trait, line := t.(string), lineAt(dec.InputOffset())
			var raw any
			if err := dec.Decode(&raw); err != nil {
				return nil, fail(err)
			}
			v, err := fromJSON(raw)
			if err != nil {
				return nil, &Error{Source{name, line}, fmt.Sprintf("c.%s.%s: %v", class, trait, err)}
			}
			if _, isMap := v.(map[string]any); isMap && isClassName(trait) {
				return nil, &Error{Source{name, line}, fmt.Sprintf("nested config sections (%s.%s) are not supported", class, trait)}
			}
			cfg.put(Assignment{Class: class, Trait: trait, Value: v, Source: Source{name, line}})
		}
		if _, err := dec.Token(); err != nil {
			return nil, fail(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errAt("unexpected data after the JSON object")
	}
	return cfg, nil
}

func isClassName(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r)
}

// fromJSON turns decoded JSON (with json.Number) into plain config data.
func fromJSON(v any) (any, error) {
	switch v := v.(type) {
	case json.Number:
		s := v.String()
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n, nil
			}
			return nil, fmt.Errorf("integer %s does not fit in 64 bits", s)
		}
		f, err := v.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s is out of range", s)
		}
		return f, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			var err error
			if out[i], err = fromJSON(x); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			var err error
			if out[k], err = fromJSON(x); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}
