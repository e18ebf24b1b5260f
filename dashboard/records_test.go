package dashboard

import (
	"context"
	"strings"
	"testing"
	"time"

	"ipcluster/runtime/client"
	"ipcluster/runtime/wire"
)

func TestTaskRecordsFailuresAndRunning(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	at := func(s int) string { return wire.FormatDate(t0.Add(time.Duration(s) * time.Second)) }
	finished := []client.Record{
		rec("msg_id", "a", "engine_uuid", "u0", "completed", at(1), "result_content", map[string]any{"status": "ok"}),
		rec("msg_id", "b", "engine_uuid", "u1", "completed", at(2), "result_content", map[string]any{"status": "error", "ename": "CommandError", "evalue": "exited with status 3"}),
	}
	src := newFakeSource()
	src.db = func(q map[string]any, keys []string) []client.Record {
		switch {
		case q["msg_id"] != nil:
			return []client.Record{rec("msg_id", "b", "stderr", strings.Repeat("x", 5000)+"\nthe last line\n")}
		case q["completed"] == nil:
			return []client.Record{
				rec("msg_id", "c", "engine_uuid", "u0", "submitted", at(3), "content", map[string]any{"code": "sleep 10\necho done"}),
				rec("msg_id", "d", "engine_uuid", "u0", "submitted", at(4), "content", map[string]any{"code": "later"}),
			}
		}
		since, _ := wire.ParseDate(q["completed"].(map[string]any)["$gte"].(string))
		var out []client.Record
		for _, r := range finished {
			if d, _ := wire.ParseDate(str(r["completed"])); !d.Before(since) {
				out = append(out, r)
			}
		}
		return out
	}
	r := newTaskRecords(t0)
	if err := r.poll(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if len(r.failures) != 1 || r.failures[0].MsgID != "b" || r.failures[0].EngineUUID != "u1" || r.failures[0].Error != "CommandError: exited with status 3" {
		t.Fatalf("failures %+v", r.failures)
	}
	if tail := r.failures[0].StderrTail; !strings.HasSuffix(tail, "the last line\n") || len(tail) > stderrTail+len("…") {
		t.Errorf("stderr tail (%d bytes) %q...", len(tail), tail[:20])
	}
	if r.failed["u1"] != 1 || r.failed["u0"] != 0 {
		t.Errorf("failed per engine %v", r.failed)
	}
	if r.current["u0"] != "sleep 10 …" {
		t.Errorf("current task of engine 0: %q", r.current["u0"])
	}
	// The next poll starts at the latest completion and sees b again: it is not counted twice.
	if err := r.poll(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if len(r.failures) != 1 || r.failed["u1"] != 1 {
		t.Errorf("a failure counted twice: %+v %v", r.failures, r.failed)
	}
	finished = append(finished, rec("msg_id", "e", "engine_uuid", "u0", "completed", at(5), "result_content", map[string]any{"status": "error", "ename": "X", "evalue": "y"}))
	r.poll(context.Background(), src)
	if len(r.failures) != 2 || r.failed["u0"] != 1 || r.failed["u1"] != 1 {
		t.Errorf("a new failure: %+v %v", r.failures, r.failed)
	}
}

func TestHistoryThroughput(t *testing.T) {
	t0 := time.Now()
	h := newHistory(time.Minute)
	h.add(t0, map[int]int{0: 10, 1: 5}, 3, 1) // baseline
	h.add(t0.Add(2*time.Second), map[int]int{0: 14, 1: 7, 2: 2}, 1, 2)
	// Engine 1 left: its count is gone, and nothing is subtracted.
	h.add(t0.Add(3*time.Second), map[int]int{0: 15, 2: 2}, 0, 0)
	s := h.copy()
	if len(s) != 2 || s[0].Finished != 8 || s[0].Rate != 4 || s[0].Depth != 1 || s[1].Finished != 1 {
		t.Fatalf("samples %+v", s)
	}
	h.add(t0.Add(2*time.Minute), map[int]int{0: 15}, 0, 0)
	if s := h.copy(); len(s) != 1 {
		t.Errorf("samples older than the window kept: %+v", s)
	}
}
