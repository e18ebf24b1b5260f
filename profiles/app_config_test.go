package profiles

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadProfile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := LoadProfile(dir, "ipcluster")
	if err != nil || len(cfg.Assignments()) != 0 || len(cfg.Files()) != 0 {
		t.Fatalf("empty profile: %v %v %v", cfg, err, cfg.Files())
	}
	write("ipcluster_config.py", "c = get_config()\nc.Cluster.n = 4\nc.Cluster.delay = 2\n")
	write("ipcluster_config.json", `{"Cluster": {"n": 8}}`)
	write("ipengine_config.py", "c.IPEngine.wait_for_url_file = 10\n")
	cfg, err = LoadProfile(dir, "ipcluster")
	if err != nil {
		t.Fatal(err)
	}
	py, js := filepath.Join(dir, "ipcluster_config.py"), filepath.Join(dir, "ipcluster_config.json")
	if !reflect.DeepEqual(cfg.Files(), []string{py, js}) {
		t.Errorf("files %v", cfg.Files())
	}
	n, _ := cfg.Get("Cluster", "n")
	d, _ := cfg.Get("Cluster", "delay")
	if n.Value != int64(8) || n.Source.String() != js+":1" || d.Value != int64(2) || d.Source.String() != py+":3" {
		t.Errorf("json over py: n=%+v delay=%+v", n, d)
	}
	if _, ok := cfg.Get("IPEngine", "wait_for_url_file"); ok {
		t.Error("ipengine_config.py read for ipcluster")
	}
	write("ipcontroller_config.json", "{\n  \"IPController\": {\"ip\": }\n}\n")
	_, err = LoadProfile(dir, "ipcontroller")
	if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, "ipcontroller_config.json")+":2: invalid JSON") {
		t.Errorf("a broken file: %v", err)
	}
}
