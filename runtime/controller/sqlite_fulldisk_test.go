package controller

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipcluster/internal/testutil"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory, unmounted when the test ends
// (after the cleanups registered later, such as the controller's stop).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		t.Fatalf("mount a %s tmpfs on %s: %v", size, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillDisk writes path until the file system under it has no room left for a byte.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, chunk := range []int{64 << 10, 4 << 10, 1} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("filling the disk: %v", err)
				}
				break
			}
		}
	}
}

// completedInFile counts the completed records committed to the SQLite file.
func completedInFile(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM "ipython-tasks" WHERE completed IS NOT NULL`).Scan(&n); err != nil {
		return -1 // the file may be busy: ask again
	}
	return n
}

// With --sqlitedb on a full disk, the records that could not be written are kept, served
// by db_query while the disk is full, and written once space comes back; the failure is
// logged once, not once per batch.
func TestSQLiteFullDiskKeepsRecordsUntilSpaceReturns(t *testing.T) {
	dir := mountTmpfs(t, "2m")
	r := startController(t, Config{SQLite: true, SQLiteLocation: dir})
	startFakeEngine(t, r)
	testutil.Eventually(t, 5*time.Second, "the engine", func() bool { return len(r.c.hub.byUUIDSnapshot()) == 1 })
	tasks := newTaskClient(t, r)
	query := newPeer(t, r.client.Key, "", r.client.Registration)
	dbPath := filepath.Join(dir, "tasks.db")

	var all []string
	run := func(n int) {
		t.Helper()
		pad := strings.Repeat("p", 400) // some 100 pages of requests for 600 tasks: more than the WAL holds
		for range n {
			all = append(all, tasks.submit(nil, map[string]any{"pad": pad}))
		}
		tasks.results(n, 20*time.Second)
	}
	completedInQuery := func() int {
		t.Helper()
		rep := query.request("db_request", map[string]any{
			"query": map[string]any{"msg_id": map[string]any{"$in": all}, "completed": map[string]any{"$ne": nil}},
			"keys":  []string{"completed"},
		})
		if rep.Content["status"] != "ok" {
			t.Fatalf("db_query: %v", rep.Content)
		}
		return len(rep.Content["records"].([]any))
	}

	run(20)
	testutil.Eventually(t, 10*time.Second, "the first records on disk", func() bool { return completedInFile(t, dbPath) == 20 })

	filler := filepath.Join(dir, "filler")
	fillDisk(t, filler)
	run(600)
	testutil.Eventually(t, 10*time.Second, "the disk to refuse a batch", func() bool {
		return strings.Contains(r.logs.String(), "disk is full") // SQLite's words
	})
	if got := completedInQuery(); got != len(all) {
		t.Errorf("while the disk is full, db_query finds %d of %d completed tasks", got, len(all))
	}
	if onDisk := completedInFile(t, dbPath); onDisk >= len(all) {
		t.Fatalf("all %d records reached a full disk: the test did not fill it", onDisk)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 15*time.Second, "every completed task written once space is back", func() bool {
		return completedInFile(t, dbPath) == len(all)
	})
	if got := completedInQuery(); got != len(all) {
		t.Errorf("after space came back, db_query finds %d of %d completed tasks", got, len(all))
	}
	logs := r.logs.String()
	if n := strings.Count(logs, "cannot be written"); n != 1 {
		t.Errorf("the full disk was logged %d times, want once per burst:\n%s", n, logs)
	}
	if !strings.Contains(logs, "written again") {
		t.Errorf("no log line says the records were written when space came back:\n%s", logs)
	}
}
