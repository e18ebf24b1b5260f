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
