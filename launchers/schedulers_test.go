package launchers

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSchedulerRowsAreValid checks every built-in row for what the batch launcher relies on:
// a row is data, so a missing field or a typo would otherwise show only on that scheduler's
// cluster (a nil parser, say, would make every job look finished).
func TestSchedulerRowsAreValid(t *testing.T) {
	names, classes := map[string]bool{}, map[string]bool{}
	reg := Builtin()
	for _, row := range Schedulers() {
		t.Run(row.Name, func(t *testing.T) {
			fail := func(format string, args ...any) { t.Errorf(row.Name+": "+format, args...) }
			for field, v := range map[string]string{"Name": row.Name, "Title": row.Title, "Class": row.Class,
				"Template": row.Template, "Ext": row.Ext, "JobIDRegexp": row.JobIDRegexp} {
				if v == "" {
					fail("%s is empty", field)
				}
			}
			if names[row.Name] || classes[row.Class] {
				fail("name %q or class %q used by two rows", row.Name, row.Class)
			}
			names[row.Name], classes[row.Class] = true, true
			for field, argv := range map[string][]string{"Submit": row.Submit, "Cancel": row.Cancel, "Status": row.Status} {
				if len(argv) == 0 || argv[0] == "" {
					fail("no %s command", field)
				}
			}
			if len(row.Signal) > 0 && !slices.ContainsFunc(row.Signal, func(a string) bool { return strings.Contains(a, "{sig}") }) {
				fail("Signal %q has no {sig}", row.Signal)
			}
			if row.Parse == nil {
				fail("no Parse: every job would look finished")
			}
			if re, err := regexp.Compile(row.JobIDRegexp); err != nil || row.JobIDGroup > re.NumSubexp() {
				fail("JobIDRegexp %q (group %d): %v", row.JobIDRegexp, row.JobIDGroup, err)
			}
			for field, p := range map[string]string{"Gone": row.Gone, "ExplainMatch": row.ExplainMatch,
				"NameDirective": row.NameDirective, "FindIDRegexp": row.FindIDRegexp} {
				if re, err := regexp.Compile(p); err != nil || p != "" && field != "Gone" && re.NumSubexp() < 1 {
					fail("%s %q: %v (a group is needed)", field, p, err)
				}
			}
			if len(row.Explain) > 0 && row.ExplainMatch == "" {
				fail("Explain without ExplainMatch")
			}
			if (len(row.Accounting) > 0) != (row.AccountingParse != nil) || (len(row.Accounting) > 0) != (len(row.AccountingCauses) > 0) {
				fail("Accounting, AccountingParse and AccountingCauses go together")
			}
			for _, c := range row.AccountingCauses {
				for _, p := range c.Match {
					if _, err := regexp.Compile(p); err != nil {
						fail("accounting cause %q: %v", c.Cause, err)
					}
				}
			}
			if len(row.States) == 0 {
				fail("no States")
			}
			for word, info := range row.States {
				if !slices.Contains([]Phase{Pending, Running, Done, Failed}, info.Phase) {
					fail("state %q has phase %q", word, info.Phase)
				}
			}
			if row.Tasks == (row.IndexVar != "") || row.Tasks && row.Launch == "" {
				fail("engines are either tasks (with Launch) or array elements (with IndexVar)")
			}
			if !slices.Contains([]string{"slurm", "pbs", "sge", "kb", "mb"}, row.MemoryUnit) || !slices.Contains([]string{"hms", "hm", "s"}, row.WalltimeForm) {
				fail("MemoryUnit %q or WalltimeForm %q unknown", row.MemoryUnit, row.WalltimeForm)
			}
			if len(row.List) > 0 && len(row.ListFields) == 0 && len(row.Fields) > 0 {
				fail("List without ListFields for a delimited status")
			}
			for _, name := range []string{row.Name, row.Class + "EngineSetLauncher", row.Class + "ControllerLauncher"} {
				if e, err := reg.Lookup(name); err != nil || e.Name != row.Name {
					fail("Lookup(%q) = %q, %v", name, e.Name, err)
				}
			}
			for _, alias := range row.Aliases {
				if e, err := reg.Lookup(alias); err != nil || e.Name != row.Name {
					fail("alias %q selects %q, %v", alias, e.Name, err)
				}
			}
			checkRendered(t, row)
		})
	}
}

// checkRendered renders the row's default scripts with every option that makes a directive
// set: the templates parse and run, and no placeholder is left unfilled.
func checkRendered(t *testing.T, row Scheduler) {
	o := BatchOptions{Queue: "q", Account: "acct", QoS: "normal", Walltime: "01:30:00", Memory: "2GB", Cores: 2, EnginesPerNode: 2}
	b := &batch{row: row, fixed: &o}
	for _, req := range []Request{
		{Role: Controller, N: 1, Command: []string{"ipcontroller", "--profile-dir", "/p"}, ClusterID: "c", LogDir: t.TempDir()},
		{Role: Engines, N: 4, Command: []string{"ipengine", "--profile-dir", "/p"}, ClusterID: "c", SetID: "s", LogDir: t.TempDir()},
	} {
		s, err := b.render(req, o)
		if err != nil {
			t.Errorf("%s: render %s: %v", row.Name, req.Role, err)
			continue
		}
		for _, f := range s.Files {
			if m := placeholderRe.FindString(f.Text); m != "" || strings.Contains(f.Text, "[[") {
				t.Errorf("%s: %s script %s keeps %q:\n%s", row.Name, req.Role, f.Path, m, f.Text)
			}
			if strings.Contains(f.Text, "<no value>") {
				t.Errorf("%s: %s script %s uses a field the data lacks:\n%s", row.Name, req.Role, f.Path, f.Text)
			}
		}
	}
}
