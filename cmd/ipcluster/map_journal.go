package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"ipcluster/runtime/client"
)

// journalName is the JSON-lines journal of a map run in its output directory.
const journalName = "journal.jsonl"

// journalEntry is one finished task, one line of the journal.
type journalEntry struct {
	Seq         int       `json:"seq"`
	Input       string    `json:"input"`
	Command     string    `json:"command"`
	Engine      int       `json:"engine"`
	Host        string    `json:"host"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	ExitCode    int       `json:"exit_code"`
	Attempts    int       `json:"attempts"`
	TimedOut    bool      `json:"timed_out,omitempty"`
	Interrupted bool      `json:"interrupted,omitempty"`
	Error       string    `json:"error,omitempty"`
}

func (e journalEntry) succeeded() bool { return e.ExitCode == 0 && e.Error == "" }

func entryOf(r client.MapResult) journalEntry {
	e := journalEntry{
		Seq: r.Seq, Input: r.Input, Command: r.Command, Engine: r.EngineID, Host: r.Host,
		Start: r.Start.UTC(), End: r.End.UTC(), ExitCode: r.ExitCode, Attempts: r.Attempts,
		TimedOut: r.TimedOut, Interrupted: r.Interrupted,
	}
	if r.Err != nil {
		e.Error = r.Err.Error()
	}
	return e
}

// outputDir keeps the files of a map run: <seq>.out and <seq>.err for each task, and the
// journal, appended to as tasks finish so that an interrupted run loses nothing.
type outputDir struct {
	dir     string
	journal *os.File
}

// openOutputDir makes (or, with resume, reopens) an output directory. Without resume a
// directory that already has a journal is refused rather than mixed with a new run.
func openOutputDir(dir string, resume bool) (*outputDir, map[string]bool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("--output-dir: %w", err)
	}
	path := filepath.Join(dir, journalName)
	done, err := succeededInputs(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		done = map[string]bool{}
	case err != nil:
		return nil, nil, err
	case !resume:
		return nil, nil, fmt.Errorf("%s already holds a run (%s): add --resume to skip the inputs it finished, or choose another --output-dir", dir, journalName)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open the journal: %w", err)
	}
	return &outputDir{dir: dir, journal: f}, done, nil
}

// succeededInputs reads a journal and returns the inputs of its successful entries.
func succeededInputs(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	done := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e journalEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// a line cut short by a crash: that task simply runs again
			continue
		}
		if e.succeeded() {
			done[e.Input] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return done, nil
}

// record writes a task's output files and its journal line.
func (o *outputDir) record(r client.MapResult) error {
	base := filepath.Join(o.dir, strconv.Itoa(r.Seq))
	if err := os.WriteFile(base+".out", []byte(r.Stdout), 0o644); err != nil {
		return fmt.Errorf("write output of task %d: %w", r.Seq, err)
	}
	if err := os.WriteFile(base+".err", []byte(r.Stderr), 0o644); err != nil {
		return fmt.Errorf("write output of task %d: %w", r.Seq, err)
	}
	line, err := json.Marshal(entryOf(r))
	if err != nil {
		return err
	}
	if _, err := o.journal.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write the journal: %w", err)
	}
	return nil
}

func (o *outputDir) Close() error { return o.journal.Close() }
