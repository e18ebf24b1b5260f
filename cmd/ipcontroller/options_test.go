package main

import (
	"strings"
	"testing"
)

func TestUsageListsAliasesAndTraits(t *testing.T) {
	u := usage()
	for _, want := range []string{"--ping=MS", "--profile-dir=DIR", "--HeartMonitor.period=<milliseconds>", "IPP_SESSION_KEY"} {
		if !strings.Contains(u, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}
