package cluster

import (
	"strings"
	"testing"

	"ipcluster/launchers"
	"ipcluster/traitconfig"
)

// The launcher settings' help (also ipcluster start's --engines and --controller help) names
// every launcher there is.
func TestLauncherHelpNamesEveryLauncher(t *testing.T) {
	specs, err := traitconfig.Describe(&ClusterSettings{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range specs {
		if !strings.HasSuffix(sp.Name, "_launcher_class") {
			continue
		}
		for _, name := range launchers.Builtin().Names() {
			if !strings.Contains(sp.Help, name) {
				t.Errorf("help of %s does not name the %s launcher: %q", sp.Name, name, sp.Help)
			}
		}
	}
}
