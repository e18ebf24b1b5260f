package traitconfig

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// TraitSpec describes one declared option.
type TraitSpec struct {
	Name    string // trait name, as in c.Class.<name>
	Type    string // Python-style type for help: "str", "int", "list of str", "seconds" ...
	Default any    // the value in the struct given to Describe, as plain data (see Literal)
	Help    string
	// Tag is the field's whole tag, for tags that other packages define on the same
	// declaration (ipcluster's flag:"n", for instance).
	Tag reflect.StructTag
}

// Describe lists the options declared by a struct (or pointer to one), in field order,
// with the struct's current values as defaults: for generated config files and --help.
//
// Options are declared once, as Go structs whose fields carry these tags:
//
//	config:"queue"            the trait name: c.<Class>.queue; fields without it are not options
//	help:"..."                one line for generated config files and --help
//	unit:"ms"                 time.Duration only: the unit of plain numbers ("s", the default, or "ms")
//	type:"..."                the type shown in help, for fields whose Go type does not say it
//	class:"HeartMonitor"      the config class declaring the option, for structs whose options
//	                          belong to several classes (see Classes); Decode ignores it
//	default:"4"               the default, as command-line text read by the field's type; Defaults
//	                          sets it (for structs whose defaults are not written in a function)
//	min:"0"                   numbers and durations: the least value Decode accepts (in the unit);
//	                          a smaller one is an error naming the option and its source
//
// Embedded structs without a config tag contribute their options, so a Slurm struct can
// embed the batch options that all schedulers share. Field types: string, bool, ints,
// floats, time.Duration, slices, string-keyed maps, structs (read from dicts by their
// config tags), pointers, any, and types implementing Decoder.
func Describe(v any) ([]TraitSpec, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil, fmt.Errorf("describe options: need a struct, got %T", v)
	}
	fields, err := fieldsOf(rv.Type())
	if err != nil {
		return nil, err
	}
	out := make([]TraitSpec, len(fields))
	for i, f := range fields {
		fv := rv.FieldByIndex(f.index)
		typ := f.typ
		if typ == "" {
			typ = typeName(fv.Type(), f.unit)
		}
		out[i] = TraitSpec{Name: f.name, Type: typ, Default: plainOf(fv, f.unit), Help: f.help, Tag: f.tag}
	}
	return out, nil
}

// KnownTraits lists the trait names of option structs by class, for Check: classes maps a
// class name to its options struct (aliases may share one).
func KnownTraits(classes map[string]any) (map[string][]string, error) {
	out := make(map[string][]string, len(classes))
	for class, opts := range classes {
		specs, err := Describe(opts)
		if err != nil {
			return nil, fmt.Errorf("class %s: %w", class, err)
		}
		names := make([]string, len(specs))
		for i, s := range specs {
			names[i] = s.Name
		}
		sort.Strings(names)
		out[class] = names
	}
	return out, nil
}

// typeName is the Python-style name of an option's type, for help.
func typeName(t reflect.Type, unit time.Duration) string {
	if reflect.PointerTo(t).Implements(reflect.TypeFor[Decoder]()) {
		return "any"
	}
	if isDuration(t) {
		if unit == time.Millisecond {
			return "milliseconds"
		}
		return "seconds"
	}
	switch t.Kind() {
	case reflect.String:
		return "str"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.Slice, reflect.Array:
		if e := typeName(t.Elem(), unit); e != "any" {
			return "list of " + e
		}
		return "list"
	case reflect.Map:
		if e := typeName(t.Elem(), unit); e != "any" && !strings.HasPrefix(e, "dict") {
			return "dict of " + e
		}
		return "dict"
	case reflect.Struct:
		return "dict"
	case reflect.Pointer:
		return typeName(t.Elem(), unit) + " or None"
	}
	return "any"
}

// plainOf converts a Go option value to plain config data: the form defaults are shown in
// and that appends and updates apply to.
func plainOf(v reflect.Value, unit time.Duration) any {
	if isDuration(v.Type()) {
		d := time.Duration(v.Int())
		if d%unit == 0 {
			return int64(d / unit)
		}
		return float64(d) / float64(unit)
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(v.Uint())
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plainOf(v.Index(i), unit)
		}
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			out[fmt.Sprint(it.Key().Interface())] = plainOf(it.Value(), unit)
		}
		return out
	case reflect.Struct:
		fields, _ := fieldsOf(v.Type())
		out := make(map[string]any, len(fields))
		for _, f := range fields {
			out[f.name] = plainOf(v.FieldByIndex(f.index), f.unit)
		}
		return out
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return plainOf(v.Elem(), unit)
	}
	return nil
}

type field struct {
	name, help, typ string
	class           string // the class tag, if any
	unit            time.Duration
	index           []int
	def             *string  // the default tag, if any
	min             *float64 // the min tag, if any
	tag             reflect.StructTag
}

func fieldsOf(t reflect.Type) ([]field, error) {
	var out []field
	seen := map[string]bool{}
	var walk func(t reflect.Type, prefix []int) error
	walk = func(t reflect.Type, prefix []int) error {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			index := append(append([]int(nil), prefix...), i)
			name, tagged := f.Tag.Lookup("config")
			if f.Anonymous && !tagged && f.Type.Kind() == reflect.Struct {
				if err := walk(f.Type, index); err != nil {
					return err
				}
				continue
			}
			if !tagged || name == "-" {
				continue
			}
			if !f.IsExported() || name == "" {
				return fmt.Errorf("options %s: field %s needs to be exported and named", t, f.Name)
			}
			if key := f.Tag.Get("class") + "." + name; seen[key] {
				return fmt.Errorf("options %s: trait %q is declared twice", t, name)
			} else {
				seen[key] = true
			}
			unit := time.Second
			switch u := f.Tag.Get("unit"); u {
			case "", "s":
			case "ms":
				unit = time.Millisecond
			default:
				return fmt.Errorf("options %s: field %s: unknown unit %q (want s or ms)", t, f.Name, u)
			}
			fd := field{name: name, help: f.Tag.Get("help"), typ: f.Tag.Get("type"), class: f.Tag.Get("class"), unit: unit, index: index, tag: f.Tag}
			if def, ok := f.Tag.Lookup("default"); ok {
				fd.def = &def
			}
			if m, ok := f.Tag.Lookup("min"); ok {
				least, err := strconv.ParseFloat(m, 64)
				if err != nil || !isNumber(f.Type) {
					return fmt.Errorf("options %s: field %s: min %q needs a number on a number or duration field", t, f.Name, m)
				}
				fd.min = &least
			}
			out = append(out, fd)
		}
		return nil
	}
	return out, walk(t, nil)
}
