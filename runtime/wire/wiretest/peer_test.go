package wiretest

import (
	"testing"
	"time"

	"ipcluster/runtime/transport"
)

// A served ROUTER answers a direct DEALER's request (Request checks the parent), and a
// recorded socket's messages are found by WaitFor.
func TestRequestReplyAndRecordedMessages(t *testing.T) {
	server := New(t, "k", "")
	router, port := server.Bind(transport.Router)
	server.Serve(router, func(frames [][]byte) {
		m, err := server.Decode(frames)
		if err != nil {
			t.Errorf("server: %v", err)
			return
		}
		server.Reply(router, m, "echo_reply", nil, map[string]any{"said": m.Content["say"]}, nil)
	})
	server.Start()

	client := New(t, "k", "")
	dealer := client.Connect(transport.Dealer, Local(port), "")
	if rep := client.Request(dealer, "echo_request", map[string]any{"say": "hi"}, 10*time.Second); rep.Content["said"] != "hi" {
		t.Fatalf("reply %v", rep)
	}

	recorder := New(t, "k", "")
	rec := recorder.Connect(transport.Dealer, Local(port), "")
	recorder.Record(rec, "rec")
	recorder.Start()
	h := recorder.Send(rec, nil, "echo_request", nil, map[string]any{"say": "again"})
	m := recorder.WaitFor(10*time.Second, "the echo", func(m Msg) bool { return m.Parent.MsgID == h.MsgID })
	if m.Socket != "rec" || m.Content["said"] != "again" {
		t.Errorf("recorded %v", m)
	}
}

// A message signed with another key is refused by Decode.
func TestDecodeRefusesAnotherKey(t *testing.T) {
	a, b := New(t, "one", ""), New(t, "two", "")
	frames, err := a.Session.Reply(nil, "x", nil, nil, map[string]any{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Decode(frames); err == nil {
		t.Fatal("a message signed with another key was accepted")
	}
}
