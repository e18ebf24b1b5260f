package engine

import (
	"encoding/json"

	"ipcluster/runtime/wire"
)

// Requests are decoded with wire's scanner (wire.ScanObject, wire.ScanStrings) when it can
// read them exactly as encoding/json would, and with encoding/json otherwise: the results
// are the same.

// echo holds, encoded as JSON, the request metadata that ipyparallel's engine copies into
// its reply metadata: the broadcast fields (defaults false, false, "") and, if present,
// the label (ipyparallel 9).
type echo struct {
	isBroadcast, isCoalescing, originalMsgID []byte
	label                                    []byte // nil when absent
}

var (
	jsonFalse       = []byte("false")
	jsonTrue        = []byte("true")
	jsonEmptyString = []byte(`""`)
	jsonNull        = []byte("null")
)

// echoOf picks the echoed fields out of decoded request metadata.
func echoOf(meta map[string]any) echo {
	enc := func(key string, def []byte) []byte {
		switch v := meta[key].(type) {
		case nil: // absent or null
			return def
		case bool:
			if v {
				return jsonTrue
			}
			return jsonFalse
		case string:
			if v == "" {
				return jsonEmptyString
			}
		}
		return appendJSONValue(nil, meta[key])
	}
	ec := echo{isBroadcast: enc("is_broadcast", jsonFalse), isCoalescing: enc("is_coalescing", jsonFalse),
		originalMsgID: enc("original_msg_id", jsonEmptyString)}
	if label, ok := meta["label"]; ok {
		ec.label = appendJSONValue(nil, label)
	}
	return ec
}

// parseHeader returns the msg_id and msg_type of a raw header as wire.ParseHeader decodes
// them, and ParseHeader's error.
func parseHeader(raw []byte) (msgID, msgType string, err error) {
	if msgID, msgType, ok := scanHeader(raw); ok {
		return msgID, msgType, nil
	}
	h, err := wire.ParseHeader(raw)
	return h.MsgID, h.MsgType, err
}

// headerKeys are the fields of wire.Header, msg_id and msg_type first: ParseHeader fails
// if one of them is not a string (or null).
var headerKeys = []string{"msg_id", "msg_type", "username", "session", "date", "version"}

func scanHeader(raw []byte) (msgID, msgType string, ok bool) {
	var out [2][]byte
	if !wire.ScanStrings(raw, headerKeys, out[:]) {
		return "", "", false
	}
	return string(out[0]), string(out[1]), true
}

// parseEcho picks the echoed fields out of the raw request metadata, which the reference
// decodes into a map (exact keys; any decoding error means no metadata at all).
func parseEcho(raw []byte) echo {
	if ec, ok := scanEcho(raw); ok {
		return ec
	}
	var meta map[string]any
	if err := json.Unmarshal(raw, &meta); err != nil {
		meta = nil
	}
	return echoOf(meta)
}

var echoKeys = []string{"is_broadcast", "is_coalescing", "original_msg_id", "label"}

func scanEcho(raw []byte) (echo, bool) {
	var m [4]wire.Member
	if !wire.ScanObject(raw, echoKeys, m[:]) { // also when it would not decode into a map
		return echo{}, false
	}
	bad := false
	field := func(v wire.Member, def []byte) []byte {
		switch v.Kind {
		case wire.KindTrue:
			return jsonTrue
		case wire.KindFalse:
			return jsonFalse
		case wire.KindAbsent:
			return def
		case wire.KindString:
			for _, c := range v.Raw {
				if c >= 0x80 {
					bad = true // written otherwise by encoding/json (U+2028, U+2029)
					return def
				}
			}
			if len(v.Raw) == 0 {
				return jsonEmptyString
			}
			return quoted(raw, v.Raw)
		}
		if string(v.Raw) != "null" {
			bad = true // numbers, lists, objects, strings with escapes: as encoding/json writes them
		}
		return def
	}
	ec := echo{isBroadcast: field(m[0], jsonFalse), isCoalescing: field(m[1], jsonFalse),
		originalMsgID: field(m[2], jsonEmptyString)}
	if m[3].Kind != wire.KindAbsent {
		ec.label = field(m[3], jsonNull)
	}
	return ec, !bad
}

// quoted returns the JSON string in data whose contents are s, a wire.KindString
// member's Raw (the bytes between the quotes in data) found by wire.ScanObject.
func quoted(data, s []byte) []byte {
	i := cap(data) - cap(s) // the offset of s in data
	return data[i-1 : i+len(s)+1]
}

// parseExecute returns the code and silent flag of an execute_request's content, decoded
// as encoding/json decodes them into a struct (errors ignored).
func parseExecute(raw []byte) (code string, silent bool) {
	if code, silent, ok := scanExecute(raw); ok {
		return code, silent
	}
	var content struct {
		Code   string `json:"code"`
		Silent bool   `json:"silent"`
	}
	json.Unmarshal(raw, &content)
	return content.Code, content.Silent
}

var executeKeys = []string{"code", "silent"}

func scanExecute(raw []byte) (code string, silent, ok bool) {
	var m [2]wire.Member
	if !wire.ScanObject(raw, executeKeys, m[:]) {
		return "", false, false
	}
	switch v := m[0]; {
	case v.Kind == wire.KindString:
		code = string(v.Raw)
	case v.Kind != wire.KindAbsent && string(v.Raw) != "null": // null leaves the field as it was
		return "", false, false
	}
	switch v := m[1]; {
	case v.Kind == wire.KindTrue:
		silent = true
	case v.Kind == wire.KindFalse, v.Kind == wire.KindAbsent, v.Kind == wire.KindOther && string(v.Raw) == "null":
	default:
		return "", false, false
	}
	return code, silent, true
}
