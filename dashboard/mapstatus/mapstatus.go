// Package mapstatus is the small file through which a running `ipcluster map` tells the
// dashboard how far it is: the map writes <profile>/log/map-progress-<pid>.json (0600) about
// once a second and removes it when it ends; the dashboard reads every such file of its
// cluster. A file left behind by a map that was killed is recognised as stale (its process
// is gone, or it has not been updated for a while) and skipped.
package mapstatus

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"ipcluster/profiles"
	"ipcluster/runtime/client"
)

// Interval is how often a running map rewrites its file.
const Interval = time.Second

// staleAfter is how old a file may be before the reader takes its map for dead, when it
// cannot ask whether the process still runs (the map runs on another host).
const staleAfter = 15 * Interval

// Status is one running map's progress as its file says it.
type Status struct {
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	ClusterID string    `json:"cluster_id"`
	Label     string    `json:"label"` // the command template
	Started   time.Time `json:"started"`
	Updated   time.Time `json:"updated"`
	Total     int       `json:"total"`
	Done      int       `json:"done"`    // finished, succeeded or not
	Failed    int       `json:"failed"`  // finished and failed after all retries
	Running   int       `json:"running"` // submitted, not finished
}

// Rate is tasks finished per second since the map started (0 before the first).
func (s Status) Rate() float64 {
	el := s.Updated.Sub(s.Started).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(s.Done) / el
}

// ETA is the time left at the current rate; ok is false while there is no rate yet.
func (s Status) ETA() (d time.Duration, ok bool) {
	r := s.Rate()
	if r <= 0 {
		return 0, false
	}
	return time.Duration(float64(s.Total-s.Done) / r * float64(time.Second)), true
}

func path(profileDir string, pid int) string {
	return filepath.Join(profiles.Dir(profileDir).Log(), fmt.Sprintf("map-progress-%d.json", pid))
}

// Writer keeps one map's file current. Its methods may be called from any goroutine.
type Writer struct {
	mu     sync.Mutex
	st     Status
	path   string
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once
}

// Start begins publishing the progress of a map of total tasks on the cluster (profile
// directory and cluster id), labelled with its command. Writing is best effort: a map does
// not fail because its progress file cannot be written.
func Start(profileDir, clusterID, label string, total int) *Writer {
	host, _ := os.Hostname()
	now := time.Now()
	w := &Writer{
		st:   Status{PID: os.Getpid(), Host: host, ClusterID: clusterID, Label: label, Started: now, Updated: now, Total: total},
		path: path(profileDir, os.Getpid()),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	os.MkdirAll(filepath.Dir(w.path), 0o700)
	w.write()
	go w.loop()
	return w
}

// Update records the counts a map reports (client.MapOptions.OnProgress).
func (w *Writer) Update(p client.MapProgress) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.st.Done, w.st.Failed, w.st.Running = p.Done, p.Failed, p.Running
	if p.Total > 0 {
		w.st.Total = p.Total
	}
}

// Tee returns an OnProgress function that records the counts and passes them on to next.
func (w *Writer) Tee(next func(client.MapProgress)) func(client.MapProgress) {
	return func(p client.MapProgress) {
		w.Update(p)
		if next != nil {
			next(p)
		}
	}
}

// Close stops publishing and removes the file.
func (w *Writer) Close() {
	w.closed.Do(func() {
		close(w.stop)
		<-w.done
		os.Remove(w.path)
	})
}

func (w *Writer) loop() {
	defer close(w.done)
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.write()
		}
	}
}

func (w *Writer) write() {
	w.mu.Lock()
	w.st.Updated = time.Now()
	st := w.st
	w.mu.Unlock()
	profiles.WriteSecret(w.path, st)
}

// Read returns the progress of the maps running on a cluster, oldest first. Files that
// cannot be read, belong to another cluster or were left by a map that is gone are skipped.
func Read(profileDir, clusterID string) []Status {
	paths, _ := filepath.Glob(filepath.Join(profiles.Dir(profileDir).Log(), "map-progress-*.json"))
	host, _ := os.Hostname()
	var out []Status
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var st Status
		if json.Unmarshal(data, &st) != nil || st.ClusterID != clusterID || !alive(st, host) {
			continue
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b Status) int { return a.Started.Compare(b.Started) })
	return out
}

// alive: the map's process runs (when it ran on this host), and it wrote lately.
func alive(st Status, host string) bool {
	if st.Host == host && st.PID > 0 {
		if err := syscall.Kill(st.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
			return false
		}
	}
	return time.Since(st.Updated) < staleAfter
}
