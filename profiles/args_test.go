package profiles

import (
	"errors"
	"strings"
	"testing"
)

var testOpts = []Option{
	{Name: "profile-dir", Value: "DIR"},
	{Name: "cluster-id", Value: "ID"},
	{Name: "log-level", Value: "LEVEL"},
	{Name: "reuse", Flag: true},
}

func TestParseArgsTraitletsForms(t *testing.T) {
	a, err := ParseArgs([]string{"--profile-dir", "/p", "--cluster-id", "", "--log_level=20", "--reuse",
		"--HeartMonitor.period=500", "--TaskScheduler.hwm", "0"}, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if a.Get("profile-dir") != "/p" || a.Get("log-level") != "20" || !a.Has("reuse") {
		t.Fatalf("values %v", a.values)
	}
	if v, ok := a.Lookup("cluster-id"); !ok || v != "" {
		t.Fatalf("empty cluster id lost: %q %v", v, ok)
	}
	if len(a.Traits) != 2 || a.Traits[0].String() != "HeartMonitor.period=500" || a.Traits[1].Value != "0" {
		t.Fatalf("traits %v", a.Traits)
	}
}

func TestParseArgsErrors(t *testing.T) {
	if _, err := ParseArgs([]string{"--help"}, testOpts); !errors.Is(err, ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	_, err := ParseArgs([]string{"--profle-dir=x"}, testOpts)
	if err == nil || !strings.Contains(err.Error(), "did you mean --profile-dir") {
		t.Errorf("typo: %v", err)
	}
	if _, err := ParseArgs([]string{"--reuse=1"}, testOpts); err == nil {
		t.Error("flag with value accepted")
	}
	if _, err := ParseArgs([]string{"--cluster-id"}, testOpts); err == nil {
		t.Error("missing value accepted")
	}
}
