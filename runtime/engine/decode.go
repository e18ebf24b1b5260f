package engine

import (
	"encoding/json"

	"ipcluster/runtime/wire"
)

// Requests are decoded with the scanner of jsonscan.go when it can read them exactly as
// encoding/json would, and with encoding/json otherwise: the results are the same.

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

// headerKeys are the fields of wire.Header: ParseHeader fails if one of them is not a
// string (or null).
var headerKeys = [...]string{"msg_id", "msg_type", "username", "session", "date", "version"}

func scanHeader(raw []byte) (msgID, msgType string, ok bool) {
	bad := false
	ok = scanObject(raw, func(key, value []byte) {
		var plain bool
		switch string(key) {
		case "msg_id":
			if string(value) != "null" { // null leaves the field as it was
				msgID, plain = plainString(value)
				bad = bad || !plain
			}
		case "msg_type":
			if string(value) != "null" {
				msgType, plain = plainString(value)
				bad = bad || !plain
			}
		case "username", "session", "date", "version":
			bad = bad || value[0] != '"' && string(value) != "null" // else ParseHeader fails
		default:
			for _, name := range headerKeys {
				if foldsTo(key, name) {
					bad = true // a case variant: encoding/json would use it
				}
			}
		}
	})
	return msgID, msgType, ok && !bad
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

func scanEcho(raw []byte) (echo, bool) {
	ec := echo{isBroadcast: jsonFalse, isCoalescing: jsonFalse, originalMsgID: jsonEmptyString}
	bad := false
	field := func(value, def []byte) []byte {
		switch string(value) {
		case "true":
			return jsonTrue
		case "false":
			return jsonFalse
		case "null":
			return def
		}
		if value[0] != '"' {
			bad = true // numbers, lists, objects: as encoding/json writes them
			return def
		}
		for _, c := range value {
			if c == '\\' || c >= 0x80 {
				bad = true // written otherwise by encoding/json
				return def
			}
		}
		return value
	}
	ok := scanObject(raw, func(key, value []byte) {
		switch string(key) {
		case "is_broadcast":
			ec.isBroadcast = field(value, jsonFalse)
		case "is_coalescing":
			ec.isCoalescing = field(value, jsonFalse)
		case "original_msg_id":
			ec.originalMsgID = field(value, jsonEmptyString)
		case "label":
			ec.label = field(value, jsonNull)
		}
	})
	return ec, ok && !bad
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

func scanExecute(raw []byte) (code string, silent, ok bool) {
	bad := false
	ok = scanObject(raw, func(key, value []byte) {
		if foldsTo(key, "code") || foldsTo(key, "silent") {
			bad = true
			return
		}
		switch string(key) {
		case "code":
			if string(value) != "null" {
				var plain bool
				code, plain = plainString(value)
				bad = bad || !plain
			}
		case "silent":
			switch string(value) {
			case "true":
				silent = true
			case "false":
				silent = false
			case "null":
			default:
				bad = true
			}
		}
	})
	return code, silent, ok && !bad
}
