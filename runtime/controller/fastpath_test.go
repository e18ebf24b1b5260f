package controller

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The fast paths that read metadata and content must agree with encoding/json.

var metadataSeeds = []string{
	`{"after":[],"follow":[],"retries":0,"targets":[],"timeout":0}`,
	`{"after": {"dependencies": ["a"], "all": true, "success": true, "failure": false}, "follow": [], "timeout": null, "targets": null, "retries": 2}`,
	`{"after":["x"],"timeout":1.5e3,"retries":-1,"targets":["u"]}`, `{"retries":1.5}`, `{"retries":"1"}`, `{"timeout":1e400}`,
	`{"retries":99999999999999999999}`, `{"after":"x"}`, `{"Retries":3}`, `{"retries":1,"retries":null}`, `{}`, `null`, `[]`, `{"timeout":true}`,
	`{"started":"2026-11-21T05:15:05.530575Z","dependencies_met":true,"engine":"e","status":"ok","is_broadcast":false}`,
	`{"dependencies_met":false,"status":"error"}`, `{"dependencies_met":null}`, `{"status":5}`, `{"engine":"\u00e9"}`,
	`{"name":"stdout","text":"hi\n"}`, `{"code":"ls"}`, `{"code":5}`, `{"code":null,"name":"x"}`, `{"text":"a","text":"b"}`,
}

func FuzzMetadataFastPaths(f *testing.F) {
	for _, s := range metadataSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want taskMetadata
		wantErr := json.Unmarshal(raw, &want)
		var got taskMetadata
		err := parseTaskMetadata(raw, &got)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("parseTaskMetadata(%q): error %v, encoding/json: %v", raw, err, wantErr)
		}
		if len(got.Targets) == 0 && len(want.Targets) == 0 {
			got.Targets, want.Targets = nil, nil // only the length is used
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("parseTaskMetadata(%q) = %+v, encoding/json: %+v", raw, got, want)
		}

		var wantMeta replyMeta
		json.Unmarshal(raw, &wantMeta)
		if got := parseReplyMeta(raw); !reflect.DeepEqual(got, wantMeta) {
			t.Fatalf("parseReplyMeta(%q) = %+v, encoding/json: %+v", raw, got, wantMeta)
		}

		var obj map[string]json.RawMessage
		wantOK := json.Unmarshal(raw, &obj) == nil
		var name, text, code string
		json.Unmarshal(obj["name"], &name)
		json.Unmarshal(obj["text"], &text)
		json.Unmarshal(obj["code"], &code)
		gn, gt, gc, ok := iopubContent(raw)
		if ok != wantOK || ok && (gn != name || gt != text || gc != code) {
			t.Fatalf("iopubContent(%q) = %q %q %q %v, encoding/json: %q %q %q %v", raw, gn, gt, gc, ok, name, text, code, wantOK)
		}
	})
}
