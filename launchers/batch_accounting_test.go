package launchers

import (
	"context"
	"strings"
	"testing"
)

// What Grid Engine 8.1.9's qacct said about real jobs (testdata/qacct), and the causes the
// SGE row reads from it: h_rt=5 with `sleep 120`; h_rt=60,h_vmem=200M with two processes
// of 120 MB (execd kills the job: "failed 37" as for h_rt); qdel of a running job; `exit 3`;
// a 2-element array with h_rt=3.
func TestSGEAccountingCauses(t *testing.T) {
	row := sgeRecorded()
	cases := []struct {
		file    string
		indexes []string
		cause   string
		exit    int
	}{
		{"h_rt", []string{"0"}, "killed by its time limit (walltime)", 137},
		{"h_vmem", []string{"0"}, "out of memory (h_vmem)", 137},
		{"qdel", []string{"0"}, "cancelled", 137},
		{"exit3", []string{"0"}, "non-zero exit", 3},
		{"array_h_rt", []string{"1", "2"}, "killed by its time limit (walltime)", 137},
		{"nonexistent", []string{"0"}, "", -1}, // no record (yet): no cause
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			b := &batch{row: row}
			exits := map[string]*int{}
			cause := b.accounting(context.Background(), localRunner{}, batchJob{Indexes: c.indexes}, []string{c.file}, exits)
			if cause != c.cause {
				t.Errorf("cause %q, want %q", cause, c.cause)
			}
			got := -1
			if exits["sched"] != nil {
				got = *exits["sched"]
			}
			if got != c.exit {
				t.Errorf("exit status %d, want %d", got, c.exit)
			}
		})
	}
}

// Elements that recorded their exit status are not asked about; a failure of the setup
// ("failed 26 : opening input/output file") is shown in Grid Engine's words.
func TestSGEAccountingOnlyMissingElements(t *testing.T) {
	recs := parseQacct("==============\ntaskid 1\nfailed 26 : opening input/output file\nexit_status 1\n" +
		"==============\ntaskid 2\nfailed 0\nexit_status 0\ncategory -l h_rt=0:0:10\nru_wallclock 12s\n")
	if len(recs) != 2 || recs[0]["index"] != "1" || recs[1]["over"] != "h_rt" || recs[0]["failed"] != "26 : opening input/output file" {
		t.Fatalf("records %v", recs)
	}
	row := sgeRecorded()
	for _, c := range row.AccountingCauses {
		if c.matches(recs[0]) {
			if got := c.expand(recs[0]); !strings.Contains(got, "opening input/output file") {
				t.Errorf("cause %q", got)
			}
			break
		}
	}
	zero := 0
	b := &batch{row: row}
	if cause := b.accounting(context.Background(), localRunner{}, batchJob{Indexes: []string{"1", "2"}}, []string{"array_h_rt"}, map[string]*int{"1": &zero, "2": &zero}); cause != "" {
		t.Errorf("every element recorded its exit status, yet the accounting was asked: %q", cause)
	}
}

// sgeRecorded is the SGE row reading recorded qacct output: cat ../testdata/qacct/<id>.txt.
func sgeRecorded() Scheduler {
	for _, r := range Schedulers() {
		if r.Name == "sge" {
			r.Accounting = []string{"cat", "../testdata/qacct/{id}.txt"}
			return r
		}
	}
	panic("no sge row")
}
