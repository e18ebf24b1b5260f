package engine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipcluster/profiles"
)

func sampleInfo() profiles.EngineInfo {
	return profiles.EngineInfo{Interface: "tcp://127.0.0.1", Registration: 1, Control: 2, Mux: 3, Task: 4, IOPub: 5,
		HBPing: 6, HBPong: 7, Broadcast: []int{8, 9}, Key: "k", Location: "somewhere", Pack: "json", Unpack: "json",
		SignatureScheme: "hmac-sha256"}
}

func writeInfo(t *testing.T, path string, info profiles.EngineInfo) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := profiles.WriteSecret(path, info); err != nil {
		t.Fatal(err)
	}
}

func TestSourcePrecedence(t *testing.T) {
	dir := t.TempDir()
	fromFile := sampleInfo()
	fromFile.Key = "file"
	writeInfo(t, profiles.ConnectionFile(dir, "c1", "engine"), fromFile)
	env := sampleInfo()
	env.Key = "env"
	envJSON, _ := json.Marshal(env)

	// IPP_CONNECTION_INFO is used as is (ipyparallel 8 launchers)
	info, where, err := Source{ConnectionInfo: string(envJSON), ProfileDir: dir, ClusterID: "c1"}.Load(context.Background())
	if err != nil || info.Key != "env" || where != "IPP_CONNECTION_INFO" {
		t.Errorf("env: %v %q %v", info.Key, where, err)
	}
	// an explicit --file beats the environment
	explicit := filepath.Join(t.TempDir(), "x.json")
	writeInfo(t, explicit, fromFile)
	info, where, err = Source{ConnectionInfo: string(envJSON), File: explicit}.Load(context.Background())
	if err != nil || info.Key != "file" || where != explicit {
		t.Errorf("--file: %v %q %v", info.Key, where, err)
	}
	// else the profile's file for the cluster id
	info, where, err = Source{ProfileDir: dir, ClusterID: "c1"}.Load(context.Background())
	if err != nil || info.Key != "file" || !strings.HasSuffix(where, "ipcontroller-c1-engine.json") {
		t.Errorf("profile: %v %q %v", info.Key, where, err)
	}
	if _, _, err := (Source{ConnectionInfo: "{not json"}).Load(context.Background()); err == nil ||
		!strings.Contains(err.Error(), "IPP_CONNECTION_INFO") {
		t.Errorf("bad env JSON: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "client.json")
	os.WriteFile(bad, []byte(`{"interface": "tcp://127.0.0.1", "registration": 1}`), 0o600)
	if _, _, err := (Source{File: bad}).Load(context.Background()); err == nil || !strings.Contains(err.Error(), "missing control") {
		t.Errorf("not an engine file: %v", err)
	}
}

func TestSourceWaitsForTheFile(t *testing.T) {
	dir := t.TempDir()
	src := Source{ProfileDir: dir, ClusterID: "late", Wait: 20 * time.Second}
	type result struct {
		info profiles.EngineInfo
		err  error
	}
	done := make(chan result, 1)
	go func() {
		info, _, err := src.Load(context.Background())
		done <- result{info, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("returned before the file existed: %v", r.err)
	case <-time.After(3 * filePoll): // the loader has polled a few times by now
	}
	writeInfo(t, src.Path(), sampleInfo())
	select {
	case r := <-done:
		if r.err != nil || r.info.Mux != 3 {
			t.Fatalf("got %+v, %v", r.info, r.err)
		}
	case <-time.After(src.Wait):
		t.Fatal("file not picked up")
	}
}

// A file caught while its writer is midway (ipyparallel writes it in place) is read again
// until it is whole; one that stays bad fails within badFileSettle and a poll or two.
func TestSourceWaitsOutAFileBeingWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engine.json")
	whole, _ := json.Marshal(sampleInfo())
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() { // a writer slow on purpose: each state lasts a good part of badFileSettle
		for _, part := range [][]byte{whole[:10], whole[:40], whole} {
			time.Sleep(badFileSettle / 3)
			os.WriteFile(path, part, 0o600)
		}
	}()
	info, where, err := Source{File: path, Wait: 20 * time.Second, SessionKey: "unused"}.Load(context.Background())
	if err != nil || info.Mux != 3 || info.Key != "k" || where != path {
		t.Fatalf("got %+v from %q, %v", info, where, err)
	}

	start := time.Now()
	os.WriteFile(path, whole[:40], 0o600)
	_, _, err = Source{File: path, Wait: 20 * time.Second}.Load(context.Background())
	if !errors.Is(err, ErrBadConnectionInfo) || !strings.Contains(err.Error(), "is truncated") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > badFileSettle+3*filePoll {
		t.Errorf("gave up after %s", d)
	}
}

// The key: the file's own, else IPP_SESSION_KEY (and where says so), else an error.
func TestSourceKeyFromTheEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engine.json")
	var m map[string]any
	data, _ := json.Marshal(sampleInfo())
	json.Unmarshal(data, &m)
	delete(m, "key")
	data, _ = json.Marshal(m)
	os.WriteFile(path, data, 0o600)
	info, where, err := Source{File: path, SessionKey: "from-env"}.Load(context.Background())
	if err != nil || info.Key != "from-env" || where != path+" (key from IPP_SESSION_KEY)" {
		t.Errorf("got key %q from %q, %v", info.Key, where, err)
	}
	if _, _, err := (Source{File: path}).Load(context.Background()); !errors.Is(err, ErrBadConnectionInfo) ||
		!strings.Contains(err.Error(), "missing key") {
		t.Errorf("no key anywhere: %v", err)
	}
}

func TestSourceGivesUpSayingWhatItLookedFor(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	_, _, err := Source{ProfileDir: dir, ClusterID: "nope", Wait: 300 * time.Millisecond, Origin: "from IPP_PROFILE_DIR"}.Load(context.Background())
	if !errors.Is(err, ErrNoConnectionInfo) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{profiles.ConnectionFile(dir, "nope", "engine"), "does not exist", "300ms", `cluster id "nope"`,
		"IPP_PROFILE_DIR", "IPP_CONNECTION_INFO is not set"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 10*time.Second {
		t.Errorf("waited %s", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := (Source{ProfileDir: dir, Wait: time.Hour}).Load(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
}

func TestResolveWildcardInterface(t *testing.T) {
	info := sampleInfo()
	e := resolve(info, "")
	if e.registration != "tcp://127.0.0.1:1" || e.hbPong != "tcp://127.0.0.1:7" || len(e.broadcast) != 2 || e.broadcast[1] != "tcp://127.0.0.1:9" {
		t.Errorf("endpoints %+v", e)
	}
	info.Interface = "tcp://0.0.0.0"
	if got := resolve(info, "").mux; got != "tcp://somewhere:3" {
		t.Errorf("wildcard with a remote location: %s", got)
	}
	host, _ := os.Hostname()
	info.Location = host
	if got := resolve(info, "").mux; got != "tcp://127.0.0.1:3" {
		t.Errorf("wildcard with this host as location: %s", got)
	}
	if got := resolve(info, "10.1.2.3").mux; got != "tcp://10.1.2.3:3" {
		t.Errorf("--location override: %s", got)
	}
}

func TestMPIRank(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		env  map[string]string
		want int
		ok   bool
	}{
		{map[string]string{"OMPI_COMM_WORLD_RANK": "3", "PMI_RANK": "9"}, 3, true},
		{map[string]string{"PMIX_RANK": "1"}, 1, true},
		{map[string]string{"PMI_RANK": "2"}, 2, true},
		{map[string]string{"SLURM_PROCID": "5"}, 5, true},
		{map[string]string{"PMI_RANK": "x"}, 0, false},
		{map[string]string{}, 0, false},
	}
	for _, c := range cases {
		got, err := MPIRank(env(c.env))
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%v: %d, %v", c.env, got, err)
		}
	}
	if _, err := MPIRank(env(nil)); err == nil || !strings.Contains(err.Error(), "OMPI_COMM_WORLD_RANK") {
		t.Errorf("missing rank error should list the variables: %v", err)
	}
}

func TestSignalsAndText(t *testing.T) {
	for in, want := range map[any]string{2.0: "SIGINT", "SIGTERM": "SIGTERM", "kill": "SIGKILL", "15": "SIGTERM"} {
		sig, err := parseSignal(in)
		if err != nil || signalName(sig) != want {
			t.Errorf("%v: %v %v", in, signalName(sig), err)
		}
	}
	for _, bad := range []any{"SIGNOPE", 0.0, 1.5, nil} {
		if _, err := parseSignal(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	// a UTF-8 character split across reads is kept whole
	data := []byte("ab\xc3") // first byte of "é"
	if n := completeRunes(data); n != 2 {
		t.Errorf("completeRunes = %d", n)
	}
	if n := completeRunes([]byte("abé")); n != 4 {
		t.Errorf("completeRunes(full) = %d", n)
	}
	if got := quoteCommand("make all\nmake install"); got != "'make all …'" {
		t.Errorf("quoteCommand = %s", got)
	}
}
