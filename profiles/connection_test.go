package profiles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A Z85 curve_serverkey holds '&', '<' and '>': the connection file shows it verbatim, as
// ipyparallel writes it, and reads back the same; the file is private (0600).
func TestWriteSecretKeepsZ85KeysVerbatim(t *testing.T) {
	key := "ebIAI!jk%X8P&O6h]*CLuIaGEu>4vQCRdjuBX0x<"
	path := filepath.Join(t.TempDir(), "ipcontroller-client.json")
	if err := WriteSecret(path, &ClientInfo{Interface: "tcp://127.0.0.1", CurveServerKey: &key}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"curve_serverkey": "`+key+`"`) {
		t.Errorf("file does not show the key verbatim:\n%s", data)
	}
	var back ClientInfo
	if err := ReadJSON(path, &back); err != nil || back.CurveServerKey == nil || *back.CurveServerKey != key {
		t.Errorf("read back %v (%v), want %q", back.CurveServerKey, err, key)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
}

// Both files, whole, with a registration port: a half-written file (a writer that does not
// rename atomically) or one file alone is not yet a controller to connect to.
func TestConnectionFilesWrittenWantsBothFilesWhole(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(Dir(dir).Security(), 0o700); err != nil {
		t.Fatal(err)
	}
	client, engine := ConnectionFile(dir, "x", "client"), ConnectionFile(dir, "x", "engine")
	steps := []struct {
		path, text string
		written    bool
	}{
		{client, `{"registration": 5001}`, false}, // no engine file yet
		{engine, `{"registration": 50`, false},    // caught half written
		{engine, `{"interface": "tcp://127.0.0.1"}`, false},
		{engine, `{"registration": 5001}`, true},
	}
	for _, s := range steps {
		if err := os.WriteFile(s.path, []byte(s.text), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := ConnectionFilesWritten(dir, "x"); got != s.written {
			t.Errorf("with %s holding %s: written = %v, want %v", filepath.Base(s.path), s.text, got, s.written)
		}
	}
	if ConnectionFilesWritten(dir, "") {
		t.Error("the files of cluster x count for the cluster without an id")
	}
}
