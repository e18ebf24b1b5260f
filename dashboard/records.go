package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"ipcluster/runtime/wire"
)

// Bounds of what the task records give the page.
const (
	maxFailures  = 20   // recent failures kept
	stderrTail   = 2000 // bytes of a failed task's stderr shown
	maxTaskLabel = 80   // characters of a running task's code shown
	// recordsLookback is how far back the first query of finished tasks reaches.
	recordsLookback = time.Minute
)

// taskRecords follows the controller's task database: failures as they happen (with the
// tail of their stderr), failures per engine, and what each engine is running. Each query
// asks only for the tasks finished since the last one, and for the few keys it shows, so
// that its cost follows the task rate, not the size of the database.
type taskRecords struct {
	since    time.Time       // the latest completion seen
	atSince  map[string]bool // msg_ids completed exactly at since (the next query sees them again)
	failures []Failure       // newest last
	failed   map[string]int  // engine uuid -> failures seen
	current  map[string]string
	err      error // why the controller gives no records (ipyparallel's NoDB); nil when it does
}

func newTaskRecords(now time.Time) *taskRecords {
	return &taskRecords{since: now.Add(-recordsLookback), atSince: map[string]bool{}, failed: map[string]int{}, current: map[string]string{}}
}

// poll reads what finished since the last poll, and the unfinished tasks' engines.
func (r *taskRecords) poll(ctx context.Context, src controllerSource) error {
	recs, err := src.records(ctx, map[string]any{"completed": map[string]any{"$gte": wire.FormatDate(r.since)}},
		[]string{"msg_id", "engine_uuid", "completed", "result_content"})
	if err != nil {
		r.err = err
		return err
	}
	r.err = nil
	var newFailed []string
	latest, atLatest := r.since, map[string]bool{}
	for _, rec := range recs {
		id := str(rec["msg_id"])
		done, perr := wire.ParseDate(str(rec["completed"]))
		if id == "" || perr != nil || (done.Equal(r.since) && r.atSince[id]) {
			continue
		}
		switch {
		case done.After(latest):
			latest, atLatest = done, map[string]bool{id: true}
		case done.Equal(latest):
			atLatest[id] = true
		}
		var rc struct {
			Status string `json:"status"`
			Ename  string `json:"ename"`
			Evalue string `json:"evalue"`
		}
		json.Unmarshal(rec["result_content"], &rc)
		if rc.Status != "error" && rc.Status != "aborted" {
			continue
		}
		uuid := str(rec["engine_uuid"])
		r.failed[uuid]++
		f := Failure{MsgID: id, EngineUUID: uuid, Completed: done, Error: strings.TrimSpace(rc.Ename + ": " + rc.Evalue)}
		if rc.Status == "aborted" {
			f.Error = "aborted"
		}
		r.failures = append(r.failures, f)
		newFailed = append(newFailed, id)
	}
	if latest.After(r.since) {
		r.since, r.atSince = latest, atLatest
	} else {
		for id := range atLatest {
			r.atSince[id] = true
		}
	}
	slices.SortStableFunc(r.failures, func(a, b Failure) int { return a.Completed.Compare(b.Completed) })
	if len(r.failures) > maxFailures {
		r.failures = slices.Clone(r.failures[len(r.failures)-maxFailures:])
	}
	r.stderrTails(ctx, src, newFailed)
	return r.running(ctx, src)
}

// stderrTails fills in the stderr of the failures just found that are still shown.
func (r *taskRecords) stderrTails(ctx context.Context, src controllerSource, ids []string) {
	var shown []any
	for _, f := range r.failures {
		if slices.Contains(ids, f.MsgID) {
			shown = append(shown, f.MsgID)
		}
	}
	if len(shown) == 0 {
		return
	}
	recs, err := src.records(ctx, map[string]any{"msg_id": map[string]any{"$in": shown}}, []string{"msg_id", "stderr"})
	if err != nil {
		return
	}
	tails := map[string]string{}
	for _, rec := range recs {
		s := str(rec["stderr"])
		if len(s) > stderrTail {
			s = "…" + s[len(s)-stderrTail:]
		}
		tails[str(rec["msg_id"])] = s
	}
	for i := range r.failures {
		if t, ok := tails[r.failures[i].MsgID]; ok {
			r.failures[i].StderrTail = t
		}
	}
}

// running finds, for each engine, the oldest task placed on it and not finished: the one it
// runs (engines run one request at a time).
func (r *taskRecords) running(ctx context.Context, src controllerSource) error {
	recs, err := src.records(ctx, map[string]any{"completed": nil, "engine_uuid": map[string]any{"$ne": nil}},
		[]string{"msg_id", "engine_uuid", "submitted", "content"})
	if err != nil {
		return fmt.Errorf("running tasks: %w", err)
	}
	oldest := map[string]time.Time{}
	current := map[string]string{}
	for _, rec := range recs {
		uuid := str(rec["engine_uuid"])
		sub, _ := wire.ParseDate(str(rec["submitted"]))
		if t, ok := oldest[uuid]; ok && !sub.Before(t) {
			continue
		}
		oldest[uuid] = sub
		current[uuid] = taskLabel(rec)
	}
	r.current = current
	return nil
}

// taskLabel names a task: the first line of its code (execute requests), else its msg_id.
func taskLabel(rec map[string]json.RawMessage) string {
	var content struct {
		Code string `json:"code"`
	}
	json.Unmarshal(rec["content"], &content)
	code := strings.TrimSpace(content.Code)
	if code == "" {
		return str(rec["msg_id"])
	}
	if i := strings.IndexByte(code, '\n'); i >= 0 {
		code = code[:i] + " …"
	}
	if r := []rune(code); len(r) > maxTaskLabel {
		code = string(r[:maxTaskLabel-1]) + "…"
	}
	return code
}

// str is a JSON string's value ("" for null or anything else).
func str(raw json.RawMessage) string {
	var s string
	json.Unmarshal(raw, &s)
	return s
}
