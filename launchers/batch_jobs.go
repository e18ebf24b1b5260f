package launchers

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
)

// JobState is one job as its scheduler describes it, in the scheduler's own word.
type JobState struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	State string `json:"state"` // e.g. RUNNING, r, RUN, Running; "gone" once the scheduler forgot it
	// Elapsed and TimeLeft are the run time and the time left in the scheduler's words, where
	// its row reads them (Slurm: "1:02:03", "UNLIMITED").
	Elapsed  string `json:"elapsed,omitempty"`
	TimeLeft string `json:"time_left,omitempty"`
}

// JobStater is implemented by launchers that submit jobs: the live state of a handle's jobs
// in the scheduler's words (`ipcluster list` shows them).
type JobStater interface {
	JobStates(ctx context.Context, h *Handle) ([]JobState, error)
}

// JobLister is implemented by launchers that can list all of the user's jobs and cancel any
// of them (`ipcluster clean --jobs`).
type JobLister interface {
	ListJobs(ctx context.Context) ([]JobState, error)
	CancelJobs(ctx context.Context, ids []string) error
}

func (b *batch) word(state string) string {
	if w, ok := b.row.StateWords[state]; ok {
		return w
	}
	return state
}

// JobStates asks the scheduler; array elements in different states are summed up per id
// ("RUN×2,PEND").
func (b *batch) JobStates(ctx context.Context, h *Handle) ([]JobState, error) {
	job, err := decodeJob(h)
	if err != nil {
		return nil, err
	}
	lines, err := b.query(ctx, job, h.JobIDs)
	if err != nil {
		return nil, err
	}
	var out []JobState
	for _, id := range h.JobIDs {
		counts := map[string]int{}
		var order []string
		var times *jobLine // the first line of the job says its run time
		for _, l := range lines {
			if numericID(l.ID) != numericID(id) {
				continue
			}
			if times == nil {
				times = &l
			}
			w := b.word(l.State)
			if counts[w] == 0 {
				order = append(order, w)
			}
			counts[w]++
		}
		var words []string
		for _, w := range order {
			if counts[w] > 1 {
				w = fmt.Sprintf("%s×%d", w, counts[w])
			}
			words = append(words, w)
		}
		if len(words) == 0 {
			words = []string{"gone"}
		}
		st := JobState{ID: id, Name: job.JobName, State: strings.Join(words, ",")}
		if times != nil {
			st.Elapsed, st.TimeLeft = times.Elapsed, times.Left
		}
		out = append(out, st)
	}
	return out, nil
}

// ListJobs lists the user's jobs with their names (ErrUnsupported when the row has no list
// command; an empty list when the scheduler's commands are not installed here).
func (b *batch) ListJobs(ctx context.Context) ([]JobState, error) {
	if len(b.row.List) == 0 {
		return nil, fmt.Errorf("%s: listing jobs: %w", b.row.Title, errors.ErrUnsupported)
	}
	r, err := b.loginRunner()
	if err != nil {
		return nil, err
	}
	if r.Host() == "" { // on a login host a missing command is reported, with the host
		if _, err := exec.LookPath(b.row.List[0]); err != nil {
			return nil, nil
		}
	}
	out, err := r.Run(ctx, b.row.List, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s list jobs: %w", b.row.Title, err)
	}
	row := b.row
	if len(row.ListFields) > 0 {
		row.Fields = row.ListFields
	}
	seen := map[string]bool{}
	var jobs []JobState
	for _, l := range row.Parse(row, out) {
		name := l.Name
		if i := strings.IndexByte(name, '['); i > 0 && strings.HasSuffix(name, "]") { // LSF array element
			name = name[:i]
		}
		key := numericID(l.ID) + "\x00" + name
		if l.ID == "" || seen[key] {
			continue
		}
		seen[key] = true
		info, ok := b.row.States[l.State]
		if ok && (info.Phase == Done || info.Phase == Failed) {
			continue
		}
		jobs = append(jobs, JobState{ID: l.ID, Name: name, State: b.word(l.State)})
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].ID < jobs[j].ID })
	return jobs, nil
}

// CancelJobs cancels jobs by id.
func (b *batch) CancelJobs(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	r, err := b.loginRunner()
	if err != nil {
		return err
	}
	argv := append(append([]string(nil), b.row.Cancel...), ids...)
	if out, err := r.Run(ctx, argv, nil, nil); err != nil && (b.row.Gone == "" || !matches(b.row.Gone, out)) {
		return fmt.Errorf("%s cancel: %w", b.row.Title, err)
	}
	return nil
}
