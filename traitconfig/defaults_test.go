package traitconfig

import (
	"strings"
	"testing"
	"time"
)

type taggedOpts struct {
	N        int           `config:"n" default:"4" min:"0" flag:"n" help:"engines"`
	Name     string        `config:"name" default:"local"`
	Wait     time.Duration `config:"wait" default:"60" min:"0"`
	Ratio    float64       `config:"ratio" default:"0.5" min:"0.25"`
	Args     []string      `config:"args" default:"['--x', '--y']"`
	Untagged int           `config:"untagged"`
}

// A default tag is read as a command-line value of the field's type; Describe shows it and
// hands over the whole tag.
func TestDefaultAndMinTags(t *testing.T) {
	opts := taggedOpts{Untagged: 7}
	if err := Defaults(&opts); err != nil {
		t.Fatal(err)
	}
	if opts.N != 4 || opts.Name != "local" || opts.Wait != time.Minute || opts.Ratio != 0.5 || len(opts.Args) != 2 || opts.Untagged != 7 {
		t.Errorf("defaults %+v", opts)
	}
	specs, err := Describe(&opts)
	if err != nil {
		t.Fatal(err)
	}
	if specs[0].Default != int64(4) || specs[0].Tag.Get("flag") != "n" {
		t.Errorf("spec %+v", specs[0])
	}
	type badDefault struct {
		N int `config:"n" default:"four"`
	}
	if err := Defaults(&badDefault{}); err == nil || !strings.Contains(err.Error(), "the default of n must be an integer") {
		t.Errorf("bad default: %v", err)
	}
	type badMin struct {
		S string `config:"s" min:"0"`
	}
	if _, err := Describe(badMin{}); err == nil || !strings.Contains(err.Error(), `min "0"`) {
		t.Errorf("min on a string: %v", err)
	}
}

// A value below min is an error naming the option and where it was set, from a file and
// from the command line alike; min itself is accepted.
func TestMinRefusesSmallerValues(t *testing.T) {
	for _, tc := range []struct {
		cfg  *Config
		want string
	}{
		{mustPy(t, "ipcluster_config.py", "c.Cluster.n = -3\n"), "ipcluster_config.py:1: c.Cluster.n must be 0 or more, got -3"},
		{FromTraits([]Trait{{Class: "Cluster", Name: "n", Value: "-3"}}), "--Cluster.n=-3: c.Cluster.n must be 0 or more, got -3"},
		{FromTraits([]Trait{{Class: "Cluster", Name: "wait", Value: "-1"}}), "c.Cluster.wait must be 0 or more, got -1"},
		{FromTraits([]Trait{{Class: "Cluster", Name: "ratio", Value: "0.2"}}), "c.Cluster.ratio must be 0.25 or more, got 0.2"},
	} {
		opts := taggedOpts{}
		Defaults(&opts)
		err := tc.cfg.Decode(ChainOf("Cluster"), &opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
		if opts.N != 4 || opts.Wait != time.Minute {
			t.Errorf("a refused value replaced the default: %+v", opts)
		}
	}
	opts := taggedOpts{}
	if err := FromTraits([]Trait{{Class: "Cluster", Name: "n", Value: "0"}}).Decode(ChainOf("Cluster"), &opts); err != nil || opts.N != 0 {
		t.Errorf("n = 0: %v %d", err, opts.N)
	}
}
