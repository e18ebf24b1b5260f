package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ipcluster/runtime/transport"
)

// --version of each program names the same version of the build and the ZeroMQ transport.
func TestVersionNamesTheBuildAndTheTransport(t *testing.T) {
	var versions []string
	for _, program := range []string{"ipcluster", "ipcontroller", "ipengine"} {
		out, err := exec.Command(filepath.Join(binDir, program), "--version").Output()
		line := strings.TrimSpace(string(out))
		v, rest, ok := strings.Cut(strings.TrimPrefix(line, program+" "), " ")
		if err != nil || !ok || v == "" || rest != "(ipcluster in Go), transport: "+transport.Backend() {
			t.Errorf("%s --version: %v %q", program, err, out)
		}
		versions = append(versions, v)
	}
	if versions[0] != versions[1] || versions[1] != versions[2] {
		t.Errorf("versions differ: %v", versions)
	}
}
