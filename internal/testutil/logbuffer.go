package testutil

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
)

// LogBuffer collects log output written from several goroutines (a controller's loop, an
// engine's, the test's own); bytes.Buffer alone is not safe for that.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Logger is a debug-level text logger into a fresh LogBuffer, tagged who=name. The buffer
// is printed with the test's output only if the test fails, so passing tests stay quiet
// and a failure shows what led to it.
func Logger(t testing.TB, name string) (*slog.Logger, *LogBuffer) {
	b := &LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- %s log:\n%s", name, b.String())
		}
	})
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})).With("who", name), b
}
