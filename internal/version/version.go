// Package version says which build a program of ipcluster in Go is, for --version: the
// version set at build time (`make build` passes `git describe`), else the module's version
// from the build info (a tagged module, or go's VCS pseudo-version), else "devel"; and the
// ZeroMQ transport it was built with.
package version

import (
	"fmt"
	"runtime/debug"
)

// version is set with go build -ldflags "-X ipcluster/internal/version.version=1.2.3".
var version string

// String is the program's version.
func String() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	var rev, dirty string // go build in a checkout records the commit
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			rev = "+" + s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	return "devel" + rev + dirty
}

// Line is what program's --version prints: its version and its ZeroMQ transport (the
// caller names it: this package sits below runtime/ and does not import it).
func Line(program, transport string) string {
	return fmt.Sprintf("%s %s (ipcluster in Go), transport: %s", program, String(), transport)
}
