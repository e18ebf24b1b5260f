package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"ipcluster/profiles"
)

// ErrBadConnectionInfo is connection information that cannot be used: not JSON, empty,
// truncated, a member of the wrong type, or one missing.
var ErrBadConnectionInfo = errors.New("bad connection information")

// decodeInfo reads engine connection JSON from where (a file or IPP_CONNECTION_INFO), with
// an error that says what is wrong with it; hasKey tells whether it has a "key" member.
func decodeInfo(data []byte, where string) (info profiles.EngineInfo, hasKey bool, err error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s %s", ErrBadConnectionInfo, where, fmt.Sprintf(format, args...))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return info, false, bad("is empty")
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	err = json.Unmarshal(data, &info)
	switch {
	case err == nil:
	case errors.As(err, &syntax) && strings.Contains(syntax.Error(), "unexpected end"):
		return info, false, bad("is truncated: its JSON stops at byte %d before it is complete", len(data))
	case errors.As(err, &syntax):
		return info, false, bad("is not JSON: %s (at byte %d)", syntax, syntax.Offset)
	case errors.As(err, &typ):
		return info, false, bad("has %q as %s, not %s", typ.Field, jsonKind(typ.Value), wantedKind(typ.Type))
	default:
		return info, false, bad("is not an engine connection file: %v", err)
	}
	var members map[string]json.RawMessage
	json.Unmarshal(data, &members)
	_, hasKey = members["key"]
	return info, hasKey, nil
}

// jsonKind names a JSON value's kind as encoding/json reports it ("string", "number", ...).
func jsonKind(value string) string {
	switch value {
	case "array", "object":
		return "an " + value
	case "bool":
		return "a boolean"
	}
	return "a " + value // "string", "number", "number 1.5"
}

// wantedKind says what a connection-file member must be, from the Go type it decodes into.
func wantedKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a port number"
	case reflect.Slice:
		return "a list of port numbers"
	case reflect.String, reflect.Pointer:
		return "a string"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.String()
}
