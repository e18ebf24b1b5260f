package launchers

import (
	"context"
	"io"
	"time"
)

// Wait calls cond at once and then every interval until it reports done or fails, and
// returns its error; it returns ctx's cause when ctx ends first. cond keeps its own deadline
// (and says in its error what did not happen in time): what counts as time spent waiting
// differs (time in a batch queue does not count).
func Wait(ctx context.Context, every time.Duration, cond func() (done bool, err error)) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
		done, err := cond()
		if done || err != nil {
			return err
		}
		t.Reset(every)
	}
}

// Close releases what a launcher holds (connections to its hosts), for launchers that hold
// anything (those that implement io.Closer). Call it once the launcher is no longer used.
func Close(l Launcher) error {
	if c, ok := l.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
