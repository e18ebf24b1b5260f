package wait

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestUntilReturnsWhenDone(t *testing.T) {
	calls := 0
	err := Until(context.Background(), time.Millisecond, func() (bool, error) {
		calls++
		return calls == 3, nil
	})
	if err != nil || calls != 3 {
		t.Errorf("Until = %v after %d calls, want nil after 3", err, calls)
	}
}

func TestUntilReturnsTheConditionsError(t *testing.T) {
	boom := errors.New("the controller stopped")
	calls := 0
	err := Until(context.Background(), time.Millisecond, func() (bool, error) {
		calls++
		return false, boom
	})
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("Until = %v after %d calls, want %v after 1", err, calls, boom)
	}
}

func TestUntilReturnsTheCauseWhenTheContextEnds(t *testing.T) {
	gone := errors.New("the user pressed Ctrl-C")
	ctx, cancel := context.WithCancelCause(context.Background())
	calls := 0
	err := Until(ctx, time.Hour, func() (bool, error) {
		calls++
		cancel(gone)
		return false, nil
	})
	if !errors.Is(err, gone) || calls != 1 {
		t.Errorf("Until = %v after %d calls, want %v after 1", err, calls, gone)
	}
}
