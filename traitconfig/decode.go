package traitconfig

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Decoder is implemented by option types that read their own value from plain config data,
// for values with several forms, such as an SSH engines entry that is n, (n, args) or
// {'n': n, 'engine_args': args}. DecodeValue helps with the parts.
type Decoder interface {
	DecodeConfig(v any) error
}

// Decode sets the options of the struct dst points to from the values that apply to the
// chain (see Lookup). Fields with no value keep theirs, so dst carries the defaults, and
// appends and updates apply to them. Every problem is reported, each naming its source.
// Describe tells which fields are options and how they are tagged.
func (c *Config) Decode(chain Chain, dst any) error {
	return c.decodeAlong(dst, func(string) Chain { return chain })
}

// decodeAlong decodes every option of the struct dst points to along the chain that
// chainOf gives for the option's class tag.
func (c *Config) decodeAlong(dst any, chainOf func(class string) Chain) error {
	return eachField(dst, "decode config", func(sv reflect.Value, f field) error {
		return c.decodeField(chainOf(f.class), sv, f)
	})
}

// eachField calls do for every option of the struct dst points to, with the struct, and
// joins the errors; doing names the caller in the error for a dst of another type.
func eachField(dst any, doing string, do func(sv reflect.Value, f field) error) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("%s: need a pointer to a struct, got %T", doing, dst)
	}
	fields, err := fieldsOf(rv.Elem().Type())
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range fields {
		if err := do(rv.Elem(), f); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// decodeField sets one option of the struct sv from the value that applies to the chain.
func (c *Config) decodeField(chain Chain, sv reflect.Value, f field) error {
	a, ok, err := c.Lookup(chain, f.name)
	if err != nil || !ok {
		return err
	}
	fv := sv.FieldByIndex(f.index)
	// Decode into a copy so that a bad value leaves the default in place.
	tmp := reflect.New(fv.Type()).Elem()
	tmp.Set(fv)
	d, path := decoder{unit: f.unit}, a.Name()
	switch {
	case a.Lazy != nil:
		var v any
		if v, err = a.Lazy.Apply(plainOf(fv, f.unit)); err != nil {
			err = fmt.Errorf("%s: %v", path, err)
		} else {
			err = d.value(tmp, v, path)
		}
	case a.Text != nil:
		err = d.text(tmp, a.Text, path)
	default:
		err = d.value(tmp, a.Value, path)
	}
	if err == nil {
		err = checkMin(f, tmp, path)
	}
	if err != nil {
		return &Error{a.Source, err.Error()}
	}
	fv.Set(tmp)
	return nil
}

// DecodeValue stores plain config data in the value dst points to, with the same rules as
// Decode; it is for Decoder implementations.
func DecodeValue(v any, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("decode config value: need a pointer, got %T", dst)
	}
	return decoder{unit: time.Second}.value(rv.Elem(), v, "value")
}

func isDuration(t reflect.Type) bool { return t == reflect.TypeFor[time.Duration]() }

type decoder struct {
	unit time.Duration // for time.Duration values: what a plain number counts
}

func mismatch(path, want string, v any) error {
	return fmt.Errorf("%s must be %s, got %s", path, want, Literal(v))
}

// value stores plain data v in fv (settable); path names it in errors (c.X.y['k'][2]).
func (d decoder) value(fv reflect.Value, v any, path string) error {
	if fv.CanAddr() {
		if dec, ok := fv.Addr().Interface().(Decoder); ok {
			if err := dec.DecodeConfig(v); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			return nil
		}
	}
	if isDuration(fv.Type()) {
		return d.duration(fv, v, path)
	}
	switch fv.Kind() {
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return mismatch(path, "a string", v)
		}
		fv.SetString(s)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return mismatch(path, "True or False", v)
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(int64)
		if !ok {
			return mismatch(path, "an integer", v)
		}
		if fv.OverflowInt(n) {
			return fmt.Errorf("%s is out of range: %d", path, n)
		}
		fv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(int64)
		if !ok || n < 0 {
			return mismatch(path, "an integer of 0 or more", v)
		}
		if fv.OverflowUint(uint64(n)) {
			return fmt.Errorf("%s is out of range: %d", path, n)
		}
		fv.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		switch n := v.(type) {
		case int64:
			fv.SetFloat(float64(n))
		case float64:
			fv.SetFloat(n)
		default:
			return mismatch(path, "a number", v)
		}
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return mismatch(path, "a list", v)
		}
		out := reflect.MakeSlice(fv.Type(), len(l), len(l))
		for i, x := range l {
			if err := d.value(out.Index(i), x, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		fv.Set(out)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok || fv.Type().Key().Kind() != reflect.String {
			return mismatch(path, "a dict", v)
		}
		out := reflect.MakeMapWithSize(fv.Type(), len(m))
		for _, k := range sortedKeys(m) {
			ev := reflect.New(fv.Type().Elem()).Elem()
			if err := d.value(ev, m[k], path+"["+quotePython(k)+"]"); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(fv.Type().Key()), ev)
		}
		fv.Set(out)
	case reflect.Struct:
		return d.structure(fv, v, path)
	case reflect.Interface:
		if v == nil {
			fv.SetZero()
			return nil
		}
		if rv := reflect.ValueOf(v); rv.Type().AssignableTo(fv.Type()) {
			fv.Set(rv)
			return nil
		}
		return mismatch(path, "a "+fv.Type().String(), v)
	case reflect.Pointer:
		if v == nil {
			fv.SetZero()
			return nil
		}
		p := reflect.New(fv.Type().Elem())
		if !fv.IsNil() {
			p.Elem().Set(fv.Elem())
		}
		if err := d.value(p.Elem(), v, path); err != nil {
			return err
		}
		fv.Set(p)
	default:
		return fmt.Errorf("%s: options of Go type %s are not supported", path, fv.Type())
	}
	return nil
}

// structure reads a dict into a struct by its config tags, keeping fields not given.
func (d decoder) structure(fv reflect.Value, v any, path string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return mismatch(path, "a dict", v)
	}
	fields, err := fieldsOf(fv.Type())
	if err != nil {
		return err
	}
	byName := map[string]field{}
	var names []string
	for _, f := range fields {
		byName[f.name] = f
		names = append(names, f.name)
	}
	for _, k := range sortedKeys(m) {
		f, ok := byName[k]
		if !ok {
			if best, ok := Closest(k, names); ok {
				return fmt.Errorf("%s has no key %s; did you mean %s?", path, quotePython(k), quotePython(best))
			}
			return fmt.Errorf("%s has no key %s (keys: %s)", path, quotePython(k), strings.Join(names, ", "))
		}
		if err := (decoder{unit: f.unit}).value(fv.FieldByIndex(f.index), m[k], path+"["+quotePython(k)+"]"); err != nil {
			return err
		}
	}
	return nil
}

// duration reads a number (in d.unit) or text such as '90s', '1h30m', '1:30:00'.
func (d decoder) duration(fv reflect.Value, v any, path string) error {
	unit := map[time.Duration]string{time.Second: "seconds", time.Millisecond: "milliseconds"}[d.unit]
	switch n := v.(type) {
	case int64:
		fv.SetInt(n * int64(d.unit))
	case float64:
		fv.SetInt(int64(n * float64(d.unit)))
	case string:
		t, err := parseDuration(n)
		if err != nil {
			return fmt.Errorf("%s must be a number of %s or a duration such as '90s' or '1:30:00', got %s", path, unit, Literal(v))
		}
		fv.SetInt(int64(t))
	default:
		return mismatch(path, "a number of "+unit, v)
	}
	return nil
}

// parseDuration reads Go durations (90s, 1h30m) and clock times ([D-]HH:MM:SS, MM:SS) as
// batch systems write walltimes.
func parseDuration(s string) (time.Duration, error) {
	if t, err := time.ParseDuration(s); err == nil {
		return t, nil
	}
	var days int64
	clock := s
	if d, rest, ok := strings.Cut(s, "-"); ok {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		days, clock = n, rest
	}
	parts := strings.Split(clock, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	var secs int64
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < 0 || i > 0 && n >= 60 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		secs = secs*60 + n
	}
	return time.Duration(days*24*3600+secs) * time.Second, nil
}

// text stores values given as text (command line, environment) as traitlets does: by the
// field's type, with list fields taking a literal list or one item per text.
func (d decoder) text(fv reflect.Value, texts []string, path string) error {
	_, custom := fv.Addr().Interface().(Decoder)
	if !custom && fv.Kind() == reflect.Slice {
		if len(texts) == 1 {
			if v, err := parseLiteral(texts[0]); err == nil {
				if l, ok := v.([]any); ok {
					return d.value(fv, l, path)
				}
			}
		}
		out := reflect.MakeSlice(fv.Type(), len(texts), len(texts))
		for i, s := range texts {
			if err := d.text(out.Index(i), []string{s}, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		fv.Set(out)
		return nil
	}
	if len(texts) != 1 {
		return fmt.Errorf("%s takes one value, got %d: %s", path, len(texts), Literal(texts))
	}
	s := texts[0]
	switch {
	case custom || isDuration(fv.Type()):
	case fv.Kind() == reflect.String:
		fv.SetString(s)
		return nil
	case fv.Kind() == reflect.Bool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1":
			fv.SetBool(true)
		case "false", "0":
			fv.SetBool(false)
		default:
			return mismatch(path, "True or False", s)
		}
		return nil
	case fv.Kind() == reflect.Pointer:
		p := reflect.New(fv.Type().Elem())
		if err := d.text(p.Elem(), texts, path); err != nil {
			return err
		}
		fv.Set(p)
		return nil
	}
	return d.value(fv, textValue(s), path)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
