// Package wait is polling written once: the launchers, the cluster's lifecycle, the
// runtime and the tests wait for a condition through Until.
package wait

import (
	"context"
	"time"
)

// Until calls cond at once and then every interval until it reports done or fails, and
// returns its error; it returns ctx's cause when ctx ends first. cond keeps its own deadline
// (and says in its error what did not happen in time): what counts as time spent waiting
// differs (time in a batch queue does not count).
func Until(ctx context.Context, every time.Duration, cond func() (done bool, err error)) error {
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
