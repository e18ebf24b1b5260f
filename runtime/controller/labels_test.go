package controller

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

// Task labels as ipyparallel 9.1's clients send them (view.set_flags(label=...)): the
// request metadata's "label", kept in the task record with DictDB and SQLite, found by
// db_query with any operator, listed among its keys, and returned by get_result inside
// the request metadata (where 9.1's Hub returns it).
func TestTaskLabelsAreRecordedAndQueried(t *testing.T) {
	for _, db := range []struct {
		name string
		cfg  Config
	}{
		{"DictDB", Config{}},
		{"SQLiteDB", Config{SQLite: true}},
	} {
		t.Run(db.name, func(t *testing.T) {
			r := startController(t, db.cfg)
			e := startFakeEngine(t, r)
			testutil.Eventually(t, 5*time.Second, "the engine", func() bool { return len(r.c.hub.byUUIDSnapshot()) == 1 })
			tasks := newTaskClient(t, r)
			direct := taskClient{newPeer(t, r.client.Key, "", r.client.Mux)}
			query := newPeer(t, r.client.Key, "", r.client.Registration)

			want := map[string]any{} // msg_id -> label (nil: None)
			for i := range 3 {
				want[tasks.submit(map[string]any{"label": fmt.Sprintf("balanced_%02d", i)}, nil)] = fmt.Sprintf("balanced_%02d", i)
			}
			want[tasks.submit(map[string]any{"label": nil}, nil)] = nil // what 9.1 sends without a label
			want[tasks.submit(nil, nil)] = nil                          // what 7.1 sends
			mux := direct.send([][]byte{[]byte(e.uuid)}, "apply_request", map[string]any{"label": "direct"}, map[string]any{}).MsgID
			want[mux] = "direct"
			tasks.results(5, 5*time.Second)
			direct.results(1, 5*time.Second)

			find := func(q map[string]any, keys []string) (map[string]any, []map[string]any) {
				t.Helper()
				content := map[string]any{"query": q}
				if keys != nil {
					content["keys"] = keys
				}
				rep := query.request("db_request", content)
				if rep.Content["status"] != "ok" {
					t.Fatalf("db_query %v: %v", q, rep.Content)
				}
				got := map[string]any{}
				var recs []map[string]any
				for _, rec := range rep.Content["records"].([]any) {
					m := rec.(map[string]any)
					got[m["msg_id"].(string)] = m["label"]
					recs = append(recs, m)
				}
				return got, recs
			}
			labelsOf := func(got map[string]any) string {
				var out []string
				for _, l := range got {
					out = append(out, fmt.Sprint(l))
				}
				sort.Strings(out)
				return strings.Join(out, " ")
			}

			all, recs := find(map[string]any{}, nil)
			if len(all) != len(want) {
				t.Fatalf("db_query({}) found %d records, want %d", len(all), len(want))
			}
			for id, l := range want {
				if all[id] != l {
					t.Errorf("record %s: label %#v, want %#v", id, all[id], l)
				}
			}
			for _, rec := range recs {
				if _, ok := rec["label"]; !ok {
					t.Fatalf("a record without the label key: %v", rec)
				}
			}
			for _, q := range []struct {
				query map[string]any
				want  string
			}{
				{map[string]any{"label": "direct"}, "direct"},
				{map[string]any{"label": map[string]any{"$nin": []any{""}}}, "<nil> <nil> balanced_00 balanced_01 balanced_02 direct"},
				{map[string]any{"label": map[string]any{"$ne": nil}}, "balanced_00 balanced_01 balanced_02 direct"},
				{map[string]any{"label": map[string]any{"$in": []any{"balanced_01", "direct"}}}, "balanced_01 direct"},
				{map[string]any{"label": map[string]any{"$exists": false}}, "<nil> <nil>"},
				{map[string]any{"label": map[string]any{"$gt": "balanced_00", "$lt": "c"}}, "balanced_01 balanced_02"},
				{map[string]any{"label": map[string]any{"$glob": "bal*_0[!1]"}}, "balanced_00 balanced_02"},
				{map[string]any{"label": map[string]any{"$exists": true}, "queue": "mux"}, "direct"},
			} {
				got, _ := find(q.query, []string{"label"})
				if labelsOf(got) != q.want {
					t.Errorf("db_query(%v) labels = %q, want %q", q.query, labelsOf(got), q.want)
				}
			}
			_, only := find(map[string]any{"label": "direct"}, []string{"label"})
			if len(only) != 1 || len(only[0]) != 2 {
				t.Errorf("keys=[label]: %v, want msg_id and label only", only)
			}

			rep := query.request("result_request", map[string]any{"msg_ids": []string{mux}})
			res, _ := rep.Content[mux].(map[string]any)
			md, _ := res["metadata"].(map[string]any)
			if md["label"] != "direct" {
				t.Errorf("get_result metadata = %v, want the label", md)
			}
		})
	}
}
