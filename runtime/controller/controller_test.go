package controller

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/testutil"
	"ipcluster/pyfind"
	"ipcluster/runtime/transport"
	"ipcluster/runtime/wire"
)

func TestConnectionFilesAndCleanExit(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	r := startController(t, Config{ProfileDir: dir, ClusterID: "x"})
	for _, f := range []string{r.c.ClientFile(), r.c.EngineFile()} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	if filepath.Base(r.c.ClientFile()) != "ipcontroller-x-client.json" {
		t.Errorf("client file %s", r.c.ClientFile())
	}
	st, _ := os.Stat(filepath.Join(dir, "security"))
	if st.Mode().Perm() != 0o700 {
		t.Errorf("security/ has mode %v, want 0700", st.Mode().Perm())
	}
	var client, engine map[string]any
	raw, _ := os.ReadFile(r.c.ClientFile())
	json.Unmarshal(raw, &client)
	raw, _ = os.ReadFile(r.c.EngineFile())
	json.Unmarshal(raw, &engine)
	wantClient := []string{"broadcast", "control", "curve_serverkey", "interface", "iopub", "key", "location", "mux",
		"notification", "pack", "registration", "signature_scheme", "ssh", "task", "task_scheme", "unpack"}
	wantEngine := []string{"broadcast", "control", "curve_serverkey", "hb_ping", "hb_pong", "interface", "iopub", "key",
		"location", "mux", "pack", "registration", "signature_scheme", "ssh", "task", "unpack"}
	if got := keysOf(client); !reflect.DeepEqual(got, wantClient) {
		t.Errorf("client file keys %v", got)
	}
	if got := keysOf(engine); !reflect.DeepEqual(got, wantEngine) {
		t.Errorf("engine file keys %v", got)
	}
	if client["interface"] != "tcp://127.0.0.1" || client["task_scheme"] != "leastload" || client["registration"] != engine["registration"] {
		t.Errorf("client file %v", client)
	}
	if b, ok := engine["broadcast"].([]any); !ok || len(b) != 2 {
		t.Errorf("engine broadcast ports %v, want a list of 2", engine["broadcast"])
	}
	if _, err := os.Stat(filepath.Join(dir, "log", "enginesx.json")); err != nil {
		t.Errorf("engine state file: %v", err)
	}
	r.stop(t)
	for _, f := range []string{r.c.ClientFile(), r.c.EngineFile()} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s still there after a clean exit", f)
		}
	}
	testutil.NoGoroutinesLeft(t, 5*time.Second, before)
}

func keysOf(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

func TestReuseKeepsKeyPortsAndFiles(t *testing.T) {
	dir := t.TempDir()
	first := startController(t, Config{ProfileDir: dir, Reuse: true})
	clientBefore, _ := os.ReadFile(first.c.ClientFile())
	first.stop(t)
	if _, err := os.Stat(first.c.ClientFile()); err != nil {
		t.Fatalf("--reuse removed the client file: %v", err)
	}
	second := startController(t, Config{ProfileDir: dir, Reuse: true})
	clientAfter, _ := os.ReadFile(second.c.ClientFile())
	if string(clientBefore) != string(clientAfter) {
		t.Fatalf("client file changed across a --reuse restart:\n%s\n%s", clientBefore, clientAfter)
	}
	p := newPeer(t, second.client.Key, "", second.client.Registration)
	if rep := p.request("connection_request", map[string]any{}); rep.Content["status"] != "ok" {
		t.Fatalf("reused controller does not answer: %v", rep.Content)
	}
}

func TestBadMessagesAreDroppedAndLogged(t *testing.T) {
	r := startController(t, Config{})
	p := newPeer(t, r.client.Key, "bad-peer", r.client.Registration)
	good := func(msgType string) [][]byte {
		frames, _ := p.Session.Reply(nil, msgType, nil, nil, map[string]any{}, nil)
		return frames
	}
	unsigned := good("connection_request")
	unsigned[1] = []byte{}
	forged := good("connection_request")
	forged[5] = []byte(`{"x":1}`)
	wrongKey, _ := wire.NewSession([]byte("not-the-key"), "hmac-sha256")
	foreign, _ := wrongKey.Reply(nil, "connection_request", nil, nil, map[string]any{}, nil)
	nonJSONHeader := good("connection_request")
	nonJSONHeader[2] = []byte("not json")
	nonJSONHeader[1] = p.Session.Signer().Sign(nonJSONHeader[2], nonJSONHeader[3], nonJSONHeader[4], nonJSONHeader[5])
	for name, frames := range map[string][][]byte{
		"unsigned": unsigned, "forged": forged, "wrong key": foreign,
		"truncated": good("connection_request")[:4], "no delimiter": good("connection_request")[1:],
		"non-JSON header": nonJSONHeader,
	} {
		if err := p.sock.Send(frames); err != nil {
			t.Fatal(err)
		}
		if got, ok := recvOn(p.sock, 150*time.Millisecond); ok {
			t.Errorf("%s message got a reply: %q", name, got)
		}
	}
	replayed := good("connection_request")
	p.sock.Send(replayed)
	if _, ok := recvOn(p.sock, 5*time.Second); !ok {
		t.Fatal("valid message got no reply")
	}
	p.sock.Send(replayed)
	if _, ok := recvOn(p.sock, 150*time.Millisecond); ok {
		t.Error("replayed message got a reply")
	}
	if rep := p.request("connection_request", map[string]any{}); rep.Content["status"] != "ok" {
		t.Fatalf("controller stopped serving after bad input: %v", rep.Content)
	}
	logs := r.logs.String()
	for _, want := range []string{"invalid signature", "unsigned message", "duplicate signature", "no <IDS|MSG> delimiter", "peer=bad-peer"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

func TestQueryErrorsMatchIPyParallel(t *testing.T) {
	t.Setenv(pyfind.EnvVar, "none") // become_dask without dask
	r := startController(t, Config{})
	p := newPeer(t, r.client.Key, "", r.client.Registration)
	cases := []struct {
		msgType string
		content any
		want    string
	}{
		{"bogus_request", map[string]any{}, `KeyError: "Bad Message Type: 'bogus_request'"`},
		{"queue_request", map[string]any{"targets": []int{99}, "verbose": false}, "IndexError: No Such Engine: [99]"},
		{"queue_request", map[string]any{"targets": []int{}, "verbose": false}, "IndexError: No Engines Registered"},
		{"queue_request", map[string]any{"verbose": false}, "KeyError: 'targets'"},
		{"load_request", map[string]any{"targets": []int{}}, "IndexError: No Engines Registered"},
		{"result_request", map[string]any{"msg_ids": nil}, "TypeError: 'NoneType' object is not iterable"},
		{"result_request", map[string]any{}, "KeyError: 'msg_ids'"},
		{"resubmit_request", map[string]any{"msg_ids": nil}, "TypeError: object of type 'NoneType' has no len()"},
		{"purge_request", map[string]any{"msg_ids": []string{}, "engine_ids": nil}, "TypeError: 'NoneType' object is not iterable"},
		{"db_request", map[string]any{"query": nil}, "AttributeError: 'NoneType' object has no attribute 'items'"},
		{"result_request", map[string]any{"msg_ids": []string{"nope"}, "status_only": false}, "KeyError: 'No such message: nope'"},
		{"resubmit_request", map[string]any{"msg_ids": []string{"nope"}}, `KeyError: "No such msg(s): ['nope']"`},
		{"purge_request", map[string]any{"msg_ids": []string{}, "engine_ids": []int{7}}, "IndexError: No such engine: 7"},
		{"become_dask_request", map[string]any{"scheduler_args": map[string]any{}}, "ModuleNotFoundError: dask.distributed is not installed"},
	}
	for _, c := range cases {
		rep := p.request(c.msgType, c.content)
		if got := errorName(rep); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.msgType, got, c.want)
		}
		if info, ok := rep.Content["engine_info"].(map[string]any); !ok || len(info) != 0 {
			t.Errorf("%s: engine_info must be empty for hub errors: %v", c.msgType, rep.Content["engine_info"])
		}
	}
	if rep := p.request("history_request", map[string]any{}); rep.Content["status"] != "ok" {
		t.Errorf("history: %v", rep.Content)
	}
	// null targets are all engines, however few: ipyparallel 9's Cluster asks before any came
	rep := p.request("queue_request", map[string]any{"targets": nil, "verbose": false})
	if got := fmt.Sprint(rep.Content); rep.Header.MsgType != "queue_reply" || got != "map[status:ok unassigned:0]" {
		t.Errorf("queue_status with no engines: %s %s", rep.Header.MsgType, got)
	}
	if rep := p.request("stop_distributed_request", map[string]any{}); rep.Content["status"] != "ok" {
		t.Errorf("stop_distributed with no scheduler: %v", rep.Content)
	}
}

func TestShutdownRequestStopsAndNotifies(t *testing.T) {
	r := startController(t, Config{})
	p := newPeer(t, r.client.Key, "", r.client.Registration)
	notes := p.subscribe(r.client.Notification)
	waitForSubscription(t, p, r, notes)
	rep := p.request("shutdown_request", map[string]any{})
	if rep.Header.MsgType != "shutdown_reply" || rep.Content["status"] != "ok" {
		t.Fatalf("shutdown reply %+v", rep)
	}
	select {
	case <-r.done:
		r.done <- nil
	case <-time.After(5 * time.Second):
		t.Fatal("controller still running 5 s after shutdown_request")
	}
	waitNotification(t, p, notes, "shutdown_notification", 5*time.Second)
	if _, err := os.Stat(r.c.ClientFile()); !os.IsNotExist(err) {
		t.Error("connection file left after shutdown")
	}
}

// waitForSubscription registers a fake engine so that a notification proves the SUB socket
// is connected (PUB drops messages sent before that).
func waitForSubscription(t *testing.T, p *peer, r *running, notes *transport.Socket) {
	t.Helper()
	startFakeEngine(t, r)
	testutil.Eventually(t, 5*time.Second, "a registration notification", func() bool {
		_, ok, _ := notes.TryRecv()
		return ok
	})
}
