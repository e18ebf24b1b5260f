package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// crossCheck is run by Debian's Python: it decodes the frames we signed with jupyter_client's
// own Session (which checks the HMAC) and answers with a message signed by that Session.
const crossCheck = `
import base64, json, sys
from jupyter_client.session import Session
req = json.load(sys.stdin)
s = Session(key=req["key"].encode(), signature_scheme=req["scheme"])
frames = [base64.b64decode(f) for f in req["frames"]]
idents, rest = s.feed_identities(frames)
msg = s.deserialize(rest)
reply = s.msg("py_reply", content={"echo": msg["content"], "type": msg["header"]["msg_type"]}, parent=msg["header"])
out = s.serialize(reply, ident=[b"py"])
print(json.dumps({"frames": [base64.b64encode(f).decode() for f in out]}))
`

func TestCrossCheckWithJupyterClient(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("%s missing: run `make deps` (python3-jupyter-client is part of the test setup)", python)
	}
	for _, scheme := range []string{"hmac-sha256", "hmac-sha512"} {
		key := NewID()
		s, err := NewSession([]byte(key), scheme)
		if err != nil {
			t.Fatal(err)
		}
		frames, err := s.Reply([][]byte{[]byte("go")}, "go_request", nil, nil, map[string]any{"text": "héllo <&>", "n": 3}, nil)
		if err != nil {
			t.Fatal(err)
		}
		enc := make([]string, len(frames))
		for i, f := range frames {
			enc[i] = base64.StdEncoding.EncodeToString(f)
		}
		in, _ := json.Marshal(map[string]any{"key": key, "scheme": scheme, "frames": enc})
		cmd := exec.Command(python, "-c", crossCheck)
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: jupyter_client refused our message: %v\n%s", scheme, err, stderr.String())
		}
		var resp struct{ Frames []string }
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("bad output %q: %v", out, err)
		}
		back := make([][]byte, len(resp.Frames))
		for i, f := range resp.Frames {
			back[i], _ = base64.StdEncoding.DecodeString(f)
		}
		r, err := s.Decode(back)
		if err != nil {
			t.Fatalf("%s: we refused jupyter_client's message: %v", scheme, err)
		}
		var content struct {
			Echo map[string]any
			Type string
		}
		json.Unmarshal(r.Content, &content)
		if content.Type != "go_request" || content.Echo["text"] != "héllo <&>" {
			t.Fatalf("%s: python saw %s", scheme, r.Content)
		}
		var parent Header
		json.Unmarshal(r.Parent, &parent)
		if parent.Session != s.ID {
			t.Fatalf("parent header %s", r.Parent)
		}
	}
}
