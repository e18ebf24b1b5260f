package cluster

import (
	"reflect"
	"testing"
)

func TestClusterIDsOfJobNames(t *testing.T) {
	for name, want := range map[string][]string{
		"ipcontroller-abc":                {"abc"},
		"ipengine-abc-1700000000000":      {"abc", "abc-1700000000000"},
		"ipengine-1690000000-x7k2-170000": {"1690000000-x7k2", "1690000000-x7k2-170000"},
		"ipengine-abc":                    {"abc"},
		"ipengine":                        nil,
		"myjob":                           nil,
	} {
		if got := clusterIDsOf(name); !reflect.DeepEqual(got, want) {
			t.Errorf("clusterIDsOf(%q) = %v, want %v", name, got, want)
		}
	}
}
