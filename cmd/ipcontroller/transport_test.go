package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A transport other than tcp and ipc (what ipyparallel also accepts: inproc, pgm, udp, ...)
// is refused before anything is bound or written, in one line that says which to use.
func TestUnsupportedTransportIsOneLineError(t *testing.T) {
	for _, arg := range []string{"--transport=udp", "--IPController.engine_transport=inproc"} {
		t.Run(arg, func(t *testing.T) {
			dir := t.TempDir()
			code, stderr := ipcontroller(t, dir, arg)
			if code != 2 {
				t.Errorf("exit code %d, want 2 (usage)", code)
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "ipcontroller: "+arg+": ") || !strings.HasSuffix(lines[0], "is not supported: use tcp or ipc") {
				t.Errorf("stderr:\n%s\nwant one line: ipcontroller: %s: ... is not supported: use tcp or ipc", stderr, arg)
			}
			if _, err := os.Stat(filepath.Join(dir, "profile_default", "security")); err == nil {
				entries, _ := os.ReadDir(filepath.Join(dir, "profile_default", "security"))
				for _, e := range entries {
					t.Errorf("left behind: security/%s", e.Name())
				}
			}
		})
	}
}
