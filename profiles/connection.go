package profiles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// ClientInfo is ipcontroller-client.json, with exactly the keys of ipyparallel 7.1.
type ClientInfo struct {
	SSH             string  `json:"ssh"`
	Interface       string  `json:"interface"`
	Registration    int     `json:"registration"`
	Control         int     `json:"control"`
	Mux             int     `json:"mux"`
	Task            int     `json:"task"`
	TaskScheme      string  `json:"task_scheme"`
	IOPub           int     `json:"iopub"`
	Notification    int     `json:"notification"`
	Broadcast       int     `json:"broadcast"`
	Key             string  `json:"key"`
	CurveServerKey  *string `json:"curve_serverkey"`
	Location        string  `json:"location"`
	Pack            string  `json:"pack"`
	Unpack          string  `json:"unpack"`
	SignatureScheme string  `json:"signature_scheme"`
}

// EngineInfo is ipcontroller-engine.json (also what IPP_CONNECTION_INFO holds).
type EngineInfo struct {
	SSH             string  `json:"ssh"`
	Interface       string  `json:"interface"`
	Registration    int     `json:"registration"`
	Control         int     `json:"control"`
	Mux             int     `json:"mux"`
	Task            int     `json:"task"`
	IOPub           int     `json:"iopub"`
	HBPing          int     `json:"hb_ping"`
	HBPong          int     `json:"hb_pong"`
	Broadcast       []int   `json:"broadcast"`
	Key             string  `json:"key"`
	CurveServerKey  *string `json:"curve_serverkey"`
	Location        string  `json:"location"`
	Pack            string  `json:"pack"`
	Unpack          string  `json:"unpack"`
	SignatureScheme string  `json:"signature_scheme"`
}

// ConnectionFile returns the path of the client or engine ("client"/"engine") connection
// file of a cluster in a profile: ipcontroller[-<cluster_id>]-<role>.json.
func ConnectionFile(profileDir, clusterID, role string) string {
	name := "ipcontroller-" + role + ".json"
	if clusterID != "" {
		name = "ipcontroller-" + clusterID + "-" + role + ".json"
	}
	return filepath.Join(Dir(profileDir).Security(), name)
}

// ConnectionFilesWritten reports whether the controller of a cluster has written both its
// connection files (client and engine) in full: what `ipcluster start` and the tests' clusters
// wait for before they start engines or connect.
func ConnectionFilesWritten(profileDir, clusterID string) bool {
	for _, role := range []string{"client", "engine"} {
		var info struct {
			Registration int `json:"registration"`
		}
		if ReadJSON(ConnectionFile(profileDir, clusterID, role), &info) != nil || info.Registration == 0 {
			return false
		}
	}
	return true
}

// WriteSecret writes v as indented JSON to path with mode 0600, atomically (a reader never
// sees a partial file), in a directory that must already exist. '&', '<' and '>' are
// written as they are (not as \u0026...): a Z85 curve_serverkey holds them, and the file
// should show the key as ipyparallel writes it.
func WriteSecret(path string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	data := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WritePlain writes v as indented JSON (mode 0644), atomically.
func WritePlain(path string, v any) error {
	if err := WriteSecret(path, v); err != nil {
		return err
	}
	return os.Chmod(path, 0o644)
}

// ReadJSON reads a JSON file into v, naming the file in errors.
func ReadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
