package profiles

import (
	"strings"
	"testing"
	"time"

	"ipcluster/traitconfig"
)

// monitorApp is a program with options of its own on two classes, beside the settings every
// program has (AppSettings, on BaseParallelApplication and Application).
type monitorApp struct {
	AppSettings
	Period  time.Duration `config:"period" class:"Monitor" unit:"ms" help:"beat period"`
	Beats   int           `config:"limit" class:"Monitor" help:"how many"`
	Address string        `config:"ip" class:"App" help:"address"`
}

// monitorClasses read App's and its parents' options along one chain, as ipcontroller's do.
var monitorClasses = func() traitconfig.Classes {
	app := traitconfig.Chain{{"App", "OldApp"}, {"BaseParallelApplication"}, {"Application"}}
	return traitconfig.Classes{"Monitor": {{"Monitor"}}, "App": app, "BaseParallelApplication": app, "Application": app}
}()

var monitorAliases = []Alias{
	{Name: "ping", Trait: "Monitor.period", Value: "MS"},
	{Name: "ip", Trait: "App.ip"},
	{Name: "work-dir", Trait: "BaseParallelApplication.work_dir"},
	{Name: "fast", Set: []traitconfig.Trait{{Class: "Monitor", Name: "period", Value: "10"}, {Class: "Monitor", Name: "limit", Value: "1"}}},
	{Name: "mpi", Trait: "App.ip", Optional: true, Set: []traitconfig.Trait{{Class: "Monitor", Name: "limit", Value: "7"}}},
}

func TestAliasesBecomeOptionsAndTheCommandLineLayer(t *testing.T) {
	specs, err := traitconfig.DescribeClasses(monitorClasses, &monitorApp{Period: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	opts := AliasOptions(monitorAliases, monitorClasses, specs)
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
	cli, err := CommandLine(args, monitorAliases, monitorClasses)
	if err != nil {
		t.Fatal(err)
	}
	// the file's value is on the subclass App: the alias, set on App too, must still win
	file, _ := traitconfig.ParsePython("app.py", []byte("c.App.work_dir = '/file'\n"))
	merged, _ := traitconfig.Merge(file, cli)
	var o monitorApp
	if err := merged.DecodeClasses(monitorClasses, &o); err != nil {
		t.Fatal(err)
	}
	if o.WorkDir != "/flag" || o.Period != 20*time.Millisecond || o.Address != "x" || o.Beats != 5 {
		t.Errorf("command line: %+v", o)
	}
	bad, _ := ParseArgs([]string{"--ping=soon"}, opts)
	cli, _ = CommandLine(bad, monitorAliases, monitorClasses)
	if err := cli.DecodeClasses(monitorClasses, &o); err == nil || !strings.HasPrefix(err.Error(), "--ping=soon: ") {
		t.Errorf("an alias's error names the alias: %v", err)
	}
	if _, err := ParseArgs([]string{"--fast=1"}, opts); err == nil {
		t.Error("a flag took a value")
	}
	if a, err := ParseArgs([]string{"--mpi", "rest"}, opts); err == nil || a != nil {
		t.Error("an optional-value flag took the next argument as its value")
	}
}
