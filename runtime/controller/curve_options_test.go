package controller

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"ipcluster/profiles"
)

// The CURVE settings come from the environment (IPP_ENABLE_CURVE=1, IPP_CURVE_SECRETKEY,
// IPP_CURVE_PUBLICKEY) and from config files, where ipyparallel's keys are bytes literals.
func TestCurveSettingsFromEnvironmentAndFiles(t *testing.T) {
	const pub, sec = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
	dir := t.TempDir()
	env := map[string]string{"IPP_PROFILE_DIR": dir, "IPP_ENABLE_CURVE": "1", "IPP_CURVE_SECRETKEY": sec, "IPP_CURVE_PUBLICKEY": pub}
	cfg, _, err := configure(t, env)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.EnableCurve || cfg.CurveSecretKey != sec || cfg.CurvePublicKey != pub {
		t.Errorf("environment: enable %v secret %q public %q", cfg.EnableCurve, cfg.CurveSecretKey, cfg.CurvePublicKey)
	}
	conf := "c = get_config()\nc.IPController.enable_curve = True\nc.IPController.curve_publickey = b'" + pub + "'\n"
	os.WriteFile(filepath.Join(dir, "ipcontroller_config.py"), []byte(conf), 0o644)
	cfg, _, err = configure(t, map[string]string{"IPP_PROFILE_DIR": dir})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.EnableCurve || cfg.CurvePublicKey != pub {
		t.Errorf("config file: enable %v public %q", cfg.EnableCurve, cfg.CurvePublicKey)
	}
	cfg, _, _ = configure(t, map[string]string{"IPP_PROFILE_DIR": t.TempDir(), "IPP_ENABLE_CURVE": "0"})
	if cfg.EnableCurve {
		t.Error("IPP_ENABLE_CURVE=0 enabled CURVE")
	}
}

// Files written with enable_curve carry no HMAC key (CURVE authenticates): --reuse without
// enable_curve must not take that empty key, which would leave the cluster open; it starts
// afresh with a new key instead.
func TestReuseOfCurveFilesWithoutCurveStartsAfresh(t *testing.T) {
	dir := t.TempDir()
	first := startController(t, Config{ProfileDir: dir, Reuse: true})
	first.stop(t)
	key := "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
	ci, ei := first.client, first.engine
	ci.Key, ei.Key, ci.CurveServerKey, ei.CurveServerKey = "", "", &key, &key
	if err := errors.Join(profiles.WriteSecret(first.c.ClientFile(), &ci), profiles.WriteSecret(first.c.EngineFile(), &ei)); err != nil {
		t.Fatal(err)
	}
	second := startController(t, Config{ProfileDir: dir, Reuse: true})
	if second.client.Key == "" || second.client.CurveServerKey != nil {
		t.Errorf("reused curve files without enable_curve: key %q, curve_serverkey %v; want a new key and no CURVE",
			second.client.Key, second.client.CurveServerKey)
	}
}
