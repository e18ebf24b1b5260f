package traitconfig

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

func TestDescribeClassesNamesEachOptionByItsMainClass(t *testing.T) {
	specs, err := DescribeClasses(appClasses, &appOptions{Period: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if specs[2].Class != "App" || specs[2].Name != "work_dir" || specs[0].Class != "Monitor" {
		t.Errorf("specs %+v", specs)
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
