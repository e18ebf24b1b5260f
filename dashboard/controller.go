package dashboard

import (
	"context"
	"errors"
	"time"

	"ipcluster/runtime/client"
)

// engineReport is what the controller says about one registered engine. Fields it does not
// offer stay zero (ipyparallel's own controller offers the queue status only).
type engineReport struct {
	ID            int
	UUID          string
	State         string // idle, busy or draining, when the controller says
	Queued        int    // assigned, not started
	Running       int
	Completed     int
	Failed        *int
	CurrentTask   string
	LastHeartbeat time.Time // zero: the controller does not say
	Host          string
	PID           int
}

// probeAnswer is an engine's answer to the dashboard's kernel_info request.
type probeAnswer struct {
	UUID string
	Kind string // go, python, or the implementation's own name
}

// controllerSource is what the dashboard asks of a controller. clientSource is the real one;
// the tests of the state logic give a fake.
type controllerSource interface {
	// engines reports the registered engines and the tasks not yet placed on any.
	engines(ctx context.Context) ([]engineReport, int, error)
	// probe asks one engine for its kernel info on the control channel, which engines
	// answer even while busy: an answer proves it is alive, and names its kind.
	probe(ctx context.Context, id int) (probeAnswer, error)
	// records queries the task database (client.DBQuery).
	records(ctx context.Context, query map[string]any, keys []string) ([]client.Record, error)
	// done is closed once the connection is lost.
	done() <-chan struct{}
	close()
}

// clientSource reads a controller through runtime/client, as any client would.
type clientSource struct{ c *client.Client }

func (s clientSource) engines(ctx context.Context) ([]engineReport, int, error) {
	ids := s.c.IDs()
	qs, err := s.c.QueueStatus(ctx, nil)
	if err != nil {
		return nil, 0, err
	}
	out := make([]engineReport, 0, len(ids))
	for _, id := range ids {
		q := qs.Engines[id]
		// Engines run one request at a time: of what the controller has placed on an
		// engine and not seen finish, one runs and the rest wait.
		assigned := q.Queue + q.Tasks
		r := engineReport{ID: id, Completed: q.Completed, Running: min(assigned, 1), Queued: max(assigned-1, 0)}
		out = append(out, r)
	}
	return out, qs.Unassigned, nil
}

func (s clientSource) probe(ctx context.Context, id int) (probeAnswer, error) {
	infos, err := s.c.KernelInfo(ctx, []int{id})
	if err != nil {
		return probeAnswer{}, err
	}
	if len(infos) != 1 {
		return probeAnswer{}, errors.New("kernel_info: no answer")
	}
	return probeAnswer{UUID: infos[0].UUID, Kind: engineKind(infos[0])}, nil
}

// engineKind names an engine's kind as `ipcluster --engine-kind` does.
func engineKind(i client.EngineInfo) string {
	switch {
	case i.Implementation == "ipengine-go":
		return "go"
	case i.Python():
		return "python"
	case i.Implementation != "":
		return i.Implementation
	}
	return i.Language
}

func (s clientSource) records(ctx context.Context, query map[string]any, keys []string) ([]client.Record, error) {
	return s.c.DBQuery(ctx, query, keys)
}

func (s clientSource) done() <-chan struct{} { return s.c.Done() }
func (s clientSource) close()                { s.c.Close() }
