package mapstatus

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"ipcluster/internal/testutil"
	"ipcluster/profiles"
	"ipcluster/runtime/client"
)

func TestWriterPublishesAndRemoves(t *testing.T) {
	dir := t.TempDir()
	w := Start(dir, "c1", "echo {}", 10)
	if got := Read(dir, "other"); len(got) != 0 {
		t.Fatalf("another cluster's reader sees %+v", got)
	}
	w.Tee(nil)(client.MapProgress{Done: 4, Failed: 1, Running: 2})
	var st []Status
	testutil.Eventually(t, 5*time.Second, "the counts in the file", func() bool {
		st = Read(dir, "c1")
		return len(st) == 1 && st[0].Done == 4
	})
	if s := st[0]; s.PID != os.Getpid() || s.Total != 10 || s.Failed != 1 || s.Running != 2 || s.Label != "echo {}" {
		t.Errorf("status %+v", s)
	}
	info, err := os.Stat(path(dir, os.Getpid()))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("file mode: %v %v", info, err)
	}
	w.Close()
	if _, err := os.Stat(path(dir, os.Getpid())); !os.IsNotExist(err) {
		t.Errorf("file left after Close: %v", err)
	}
}

func TestStaleFilesAreSkipped(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "log"), 0o700)
	host, _ := os.Hostname()
	// A map on this host whose process is gone (pid 0x7ffffffe is never used).
	dead := Status{PID: 0x7ffffffe, Host: host, Updated: time.Now()}
	// A map on another host that stopped writing long ago.
	old := Status{PID: 1, Host: "elsewhere", Updated: time.Now().Add(-time.Hour)}
	live := Status{PID: 1, Host: "elsewhere", Updated: time.Now(), Done: 3, Total: 6, Started: time.Now().Add(-3 * time.Second)}
	for i, s := range []Status{dead, old, live} {
		writeStatus(t, filepath.Join(dir, "log", "map-progress-"+string(rune('a'+i))+".json"), s)
	}
	got := Read(dir, "")
	if len(got) != 1 || got[0].Done != 3 {
		t.Fatalf("read %+v, want only the live map", got)
	}
	if r := got[0].Rate(); r < 0.9 || r > 1.1 {
		t.Errorf("rate %v, want about 1 task/s", r)
	}
	if eta, ok := got[0].ETA(); !ok || eta < 2*time.Second || eta > 4*time.Second {
		t.Errorf("ETA %v %v, want about 3s", eta, ok)
	}
}

func writeStatus(t *testing.T, p string, s Status) {
	t.Helper()
	if err := profiles.WriteSecret(p, s); err != nil {
		t.Fatal(err)
	}
}
