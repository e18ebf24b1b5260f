package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"ipcluster/runtime/client"
)

// mapProgress shows how a map run goes: a live bar on a terminal (schollz/progressbar
// draws it and computes rate and ETA), plain lines every interval otherwise, so that
// batch logs stay readable. Task output printed meanwhile goes through Print, which
// clears the bar first so that the two never mix on a line.
type mapProgress struct {
	mu      sync.Mutex
	w       io.Writer
	bar     *progressbar.ProgressBar // nil when w is not a terminal
	state   client.MapProgress
	started time.Time
	stop    chan struct{}
	stopped sync.WaitGroup
}

func newMapProgress(w *os.File, total int, interval time.Duration) *mapProgress {
	p := &mapProgress{w: w, state: client.MapProgress{Total: total}, started: time.Now(), stop: make(chan struct{})}
	if term.IsTerminal(int(w.Fd())) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(p.describe()),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("tasks"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(20),
			progressbar.OptionClearOnFinish())
		return p
	}
	if interval > 0 {
		p.stopped.Add(1)
		go p.tick(interval)
	}
	return p
}

func (p *mapProgress) describe() string {
	return fmt.Sprintf("done %d failed %d running %d", p.state.Done-p.state.Failed, p.state.Failed, p.state.Running)
}

// Update records the counts Map reports.
func (p *mapProgress) Update(s client.MapProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s.Total = p.state.Total
	p.state = s
	if p.bar != nil {
		p.bar.Describe(p.describe())
		p.bar.Set(s.Done)
	}
}

// Print writes text (whole lines) to out without breaking the bar's line.
func (p *mapProgress) Print(out io.Writer, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Clear()
	}
	io.WriteString(out, text)
	if p.bar != nil {
		p.bar.RenderBlank()
	}
}

// tick prints a plain progress line every interval until Close.
func (p *mapProgress) tick(interval time.Duration) {
	defer p.stopped.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			fmt.Fprintln(p.w, p.line())
			p.mu.Unlock()
		}
	}
}

// line is the plain progress line: counts, rate and, once there is a rate, the ETA.
func (p *mapProgress) line() string {
	s := p.state
	elapsed := time.Since(p.started)
	rate := float64(s.Done) / elapsed.Seconds()
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(s.Total-s.Done)/rate) * time.Second).Round(time.Second).String()
	}
	return fmt.Sprintf("map: %d/%d done, %d failed, %d running, %.1f tasks/s, ETA %s", s.Done, s.Total, s.Failed, s.Running, rate, eta)
}

// Close stops the display and removes the bar.
func (p *mapProgress) Close() {
	close(p.stop)
	p.stopped.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
		p.bar.Clear()
	}
}
