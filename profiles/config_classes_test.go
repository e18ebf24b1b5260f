package profiles

import (
	"strings"
	"testing"
	"time"
)

// appOptions declares options on several classes, as a program's settings do.
type appOptions struct {
	Period time.Duration `config:"period" class:"Monitor" unit:"ms" help:"beat period"`
	IP     string        `config:"ip" class:"App" help:"address"`
	Dir    string        `config:"work_dir" class:"Base" help:"where to work"`
	Limit  int           `config:"limit" class:"Monitor" help:"how many"`
}

var appClasses = Classes{
	"App":     {{"App", "OldApp"}, {"Base"}},
	"Base":    {{"App", "OldApp"}, {"Base"}},
	"Monitor": {{"Monitor"}},
}

var appAliases = []Alias{
	{Name: "ping", Trait: "Monitor.period", Value: "MS"},
	{Name: "ip", Trait: "App.ip"},
	{Name: "work-dir", Trait: "Base.work_dir"},
	{Name: "fast", Set: []Trait{{"Monitor", "period", "10"}, {"Monitor", "limit", "1"}}},
	{Name: "mpi", Trait: "App.ip", Optional: true, Set: []Trait{{"Monitor", "limit", "7"}}},
}

func TestDecodeClassesReadsEachOptionAlongItsClassChain(t *testing.T) {
	file, _ := ParsePython("app.py", []byte("c.Base.work_dir = '/base'\nc.OldApp.ip = '1.2.3.4'\nc.Monitor.period = 250\nc.App.limit = 9\n"))
	o := appOptions{Period: time.Second, Limit: 3}
	if err := file.DecodeClasses(appClasses, &o); err != nil {
		t.Fatal(err)
	}
	// App.limit does not reach Monitor's option; the parent class Base reaches App's work_dir
	if o.Period != 250*time.Millisecond || o.IP != "1.2.3.4" || o.Dir != "/base" || o.Limit != 3 {
		t.Errorf("decoded %+v", o)
	}
	known := map[string][]string{}
	if err := appClasses.Known(known, &o); err != nil {
		t.Fatal(err)
	}
	if strings.Join(known["OldApp"], ",") != "ip,work_dir" || strings.Join(known["Monitor"], ",") != "limit,period" {
		t.Errorf("known %v", known)
	}
	if w := file.Check(known); len(w) != 1 || !strings.Contains(w[0].String(), "app.py:4: c.App.limit: unknown trait") {
		t.Errorf("warnings %v", w)
	}
}

func TestAliasesBecomeOptionsAndTheCommandLineLayer(t *testing.T) {
	specs, err := DescribeClasses(appClasses, &appOptions{Period: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if specs[2].Class != "App" || specs[2].Name != "work_dir" || specs[0].Class != "Monitor" {
		t.Errorf("specs %+v", specs)
	}
	opts := AliasOptions(appAliases, appClasses, specs)
	usage := Usage(opts)
	for _, want := range []string{"--ping=MS", "beat period", "--ip=STR", "--fast ", "--mpi[=STR]"} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage lacks %q:\n%s", want, usage)
		}
	}
	if opts[0].Name != "ping" || opts[0].Default != int64(1000) { // Period: time.Second, in ms
		t.Errorf("--ping default %#v, want the declared 1000", opts[0].Default)
	}
	args, err := ParseArgs([]string{"--work-dir=/flag", "--fast", "--ping=20", "--mpi=x", "--Monitor.limit=5"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := CommandLine(args, appAliases, appClasses)
	if err != nil {
		t.Fatal(err)
	}
	// the file's value is on the subclass App: the alias, set on App too, must still win
	file, _ := ParsePython("app.py", []byte("c.App.work_dir = '/file'\n"))
	merged, _ := Merge(file, cli)
	var o appOptions
	if err := merged.DecodeClasses(appClasses, &o); err != nil {
		t.Fatal(err)
	}
	if o.Dir != "/flag" || o.Period != 20*time.Millisecond || o.IP != "x" || o.Limit != 5 {
		t.Errorf("command line: %+v", o)
	}
	bad, _ := ParseArgs([]string{"--ping=soon"}, opts)
	cli, _ = CommandLine(bad, appAliases, appClasses)
	if err := cli.DecodeClasses(appClasses, &o); err == nil || !strings.HasPrefix(err.Error(), "--ping=soon: ") {
		t.Errorf("an alias's error names the alias: %v", err)
	}
	if _, err := ParseArgs([]string{"--fast=1"}, opts); err == nil {
		t.Error("a flag took a value")
	}
	if a, err := ParseArgs([]string{"--mpi", "rest"}, opts); err == nil || a != nil {
		t.Error("an optional-value flag took the next argument as its value")
	}
}

func TestSampleConfigListsDefaultsByClass(t *testing.T) {
	specs, _ := DescribeClasses(appClasses, &appOptions{Period: time.Second, Limit: 3})
	text := SampleConfig("Configuration file for app.", specs)
	for _, want := range []string{"# Configuration file for app.\n", "c = get_config()", "# Monitor\n", "# beat period (milliseconds)\n# c.Monitor.period = 1000\n",
		"# c.App.work_dir = ''"} {
		if !strings.Contains(text, want) {
			t.Errorf("sample lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(TraitUsage(specs), "--Monitor.limit=<int>\n      how many (default 3)") {
		t.Errorf("trait usage:\n%s", TraitUsage(specs))
	}
}
