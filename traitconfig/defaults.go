package traitconfig

import (
	"fmt"
	"reflect"
	"strconv"
)

// Defaults sets every option of the struct dst points to that has a default tag, reading the
// tag's text as a command-line value of the field's type (default:"60" on a duration is 60
// seconds, default:"local" a string). Options without the tag keep their values. An error
// is a declaration bug.
func Defaults(dst any) error {
	return eachField(dst, "defaults", func(sv reflect.Value, f field) error {
		if f.def == nil {
			return nil
		}
		if err := (decoder{unit: f.unit}).text(sv.FieldByIndex(f.index), []string{*f.def}, "the default of "+f.name); err != nil {
			return fmt.Errorf("options %s: %w", sv.Type(), err)
		}
		return nil
	})
}

// isNumber tells whether a field's type can carry a min tag (durations are int64).
func isNumber(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// checkMin reports a decoded value below the field's min tag, naming the option (path).
func checkMin(f field, v reflect.Value, path string) error {
	if f.min == nil {
		return nil
	}
	var x float64
	switch {
	case isDuration(v.Type()):
		x = float64(v.Int()) / float64(f.unit)
	case v.CanInt():
		x = float64(v.Int())
	case v.CanUint():
		x = float64(v.Uint())
	default:
		x = v.Float()
	}
	if x >= *f.min {
		return nil
	}
	return fmt.Errorf("%s must be %s or more, got %s", path, strconv.FormatFloat(*f.min, 'g', -1, 64), Literal(plainOf(v, f.unit)))
}
