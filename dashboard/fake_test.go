package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"ipcluster/runtime/client"
)

// fakeSource is a controller for the state logic's tests: engines as given, probes answered
// unless the engine is "dead" (then they wait, as for a killed engine), records as given.
type fakeSource struct {
	mu         sync.Mutex
	reports    []engineReport
	unassigned int
	dead       map[int]bool
	queries    []map[string]any
	db         func(query map[string]any, keys []string) []client.Record
	doneCh     chan struct{}
	down       bool
}

// shutdown is the controller announcing its shutdown.
func (f *fakeSource) shutdown() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = true
	close(f.doneCh)
}

func newFakeSource(reports ...engineReport) *fakeSource {
	return &fakeSource{reports: reports, dead: map[int]bool{}, doneCh: make(chan struct{})}
}

func (f *fakeSource) set(reports ...engineReport) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reports = reports
}

func (f *fakeSource) kill(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dead[id] = true
}

func (f *fakeSource) engines(ctx context.Context) ([]engineReport, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, 0, fmt.Errorf("queue_request: %w: %w", client.ErrClosed, client.ErrControllerShutdown)
	}
	return append([]engineReport(nil), f.reports...), f.unassigned, nil
}

func (f *fakeSource) probe(ctx context.Context, id int) (probeAnswer, error) {
	f.mu.Lock()
	dead := f.dead[id]
	f.mu.Unlock()
	if dead {
		<-ctx.Done()
		return probeAnswer{}, ctx.Err()
	}
	return probeAnswer{UUID: fmt.Sprintf("uuid-%d", id), Kind: "go"}, nil
}

func (f *fakeSource) records(ctx context.Context, query map[string]any, keys []string) ([]client.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, query)
	if f.db == nil {
		return nil, nil
	}
	return f.db(query, keys), nil
}

func (f *fakeSource) done() <-chan struct{} { return f.doneCh }
func (f *fakeSource) close()                {}

// rec makes a task record from key/value pairs.
func rec(kv ...any) client.Record {
	r := client.Record{}
	for i := 0; i < len(kv); i += 2 {
		b, _ := json.Marshal(kv[i+1])
		r[kv[i].(string)] = b
	}
	return r
}
