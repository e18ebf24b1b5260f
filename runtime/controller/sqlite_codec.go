package controller

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unsafe"
)

// Values of a record as ipyparallel's SQLiteDB stores them: dicts as JSON text, buffers as a
// pickled list (NULL for none), dates as ISO 8601 text, the rest as text; NULL is None.

func textOrNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// jsonOrNull binds JSON as TEXT without a copy: the snapshot's parts are never changed
// (the loop replaces them), and the driver copies the text into SQLite while binding.
func jsonOrNull(r json.RawMessage) any {
	if len(r) == 0 {
		return nil
	}
	return unsafe.String(unsafe.SliceData(r), len(r))
}

func blobOrNull(bufs [][]byte) any {
	if b := pickleBuffers(bufs); b != nil {
		return b
	}
	return nil
}

// appendRecordArgs appends rec's column values, in the order of layout. (Called by the
// writer on a snapshot: it reads nothing the event loop changes.)
func appendRecordArgs(args []any, rec *Record, layout sqliteLayout) []any {
	var input any
	if rec.ExecuteInput != nil {
		input = *rec.ExecuteInput
	}
	args = append(args,
		rec.MsgID, jsonOrNull(rec.Header), jsonOrNull(rec.Metadata), jsonOrNull(rec.Content),
		blobOrNull(rec.Buffers), textOrNull(rec.Submitted), textOrNull(rec.ClientUUID), textOrNull(rec.EngineUUID),
		textOrNull(rec.Started), textOrNull(rec.Completed), textOrNull(rec.Resubmitted), textOrNull(rec.Received),
		jsonOrNull(rec.ResultHeader), jsonOrNull(rec.ResultMetadata), jsonOrNull(rec.ResultContent),
		blobOrNull(rec.ResultBuffers), textOrNull(rec.Queue), input, jsonOrNull(rec.ExecuteResult),
		jsonOrNull(rec.Error), rec.Stdout.String(), rec.Stderr.String(),
	)
	if layout.hasLabel() {
		args = append(args, labelText(rec.label()))
	}
	return args
}

// labelText is a label as ipyparallel 9.1 stores it in its text column: a string as
// itself, None as NULL, anything else as its JSON text.
func labelText(label json.RawMessage) any {
	if len(label) == 0 {
		return nil
	}
	var s string
	if label[0] == '"' && json.Unmarshal(label, &s) == nil {
		return s
	}
	return string(label)
}

// labelFromColumn reads a label column: text is a string label (as 9.1 writes it).
func labelFromColumn(v any) json.RawMessage {
	s, ok := asText(v)
	if !ok {
		return nil
	}
	quoted, _ := json.Marshal(s)
	return quoted
}

// asText reads a TEXT value (or whatever SQLite returns for it); ok=false for NULL.
func asText(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case []byte:
		return string(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	}
	return fmt.Sprint(v), true
}

// asJSON reads a JSON column. Text that is not JSON (a column Python filled with a plain
// string) is kept as a JSON string.
func asJSON(v any) json.RawMessage {
	s, ok := asText(v)
	if !ok {
		return nil
	}
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	quoted, _ := json.Marshal(s)
	return quoted
}

func asBuffers(v any, column string) ([][]byte, error) {
	switch b := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		bufs, err := unpickleBuffers(b)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", column, err)
		}
		return bufs, nil
	}
	return nil, fmt.Errorf("column %s: a %T, not a pickled list of bytes", column, v)
}

// recordFromRow decodes a row read in the order of layout (each value scanned into an
// any). Without a label column, the label is the request metadata's, as 9.1's Hub sets it.
func recordFromRow(vals []any, layout sqliteLayout) (*Record, error) {
	text := func(i int) string { s, _ := asText(vals[i]); return s }
	rec := &Record{
		MsgID: text(0), Header: asJSON(vals[1]), Metadata: asJSON(vals[2]), Content: asJSON(vals[3]),
		Submitted: text(5), ClientUUID: text(6), EngineUUID: text(7), Started: text(8), Completed: text(9),
		Resubmitted: text(10), Received: text(11), ResultHeader: asJSON(vals[12]), ResultMetadata: asJSON(vals[13]),
		ResultContent: asJSON(vals[14]), Queue: text(16), ExecuteResult: asJSON(vals[18]), Error: asJSON(vals[19]),
	}
	if s, ok := asText(vals[17]); ok {
		rec.ExecuteInput = &s
	}
	rec.Stdout.Append(text(20))
	rec.Stderr.Append(text(21))
	if layout.hasLabel() {
		rec.Label = labelFromColumn(vals[22])
	}
	var err error
	if rec.Buffers, err = asBuffers(vals[4], "buffers"); err != nil {
		return nil, fmt.Errorf("record %q: %w", rec.MsgID, err)
	}
	if rec.ResultBuffers, err = asBuffers(vals[15], "result_buffers"); err != nil {
		return nil, fmt.Errorf("record %q: %w", rec.MsgID, err)
	}
	rec.resultBufsSet = rec.ResultBuffers != nil
	return rec, nil
}
