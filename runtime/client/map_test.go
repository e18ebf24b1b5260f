package client_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"ipcluster/runtime/client"
	"ipcluster/runtime/client/clienttest"

	"ipcluster/internal/testutil"
)

// The expanded command, run by /bin/sh, gets each input as one argument, unchanged,
// whatever it holds; {#} and {%} (IPP_ENGINE_ID, as engines set it) are filled in.
func TestCommandTemplateQuotesInputs(t *testing.T) {
	inputs := []string{"plain", "two words", "it's", `"dq" $HOME`, "`id`", "semi;colon|pipe", "", "*", "new\nline", "{}"}
	for _, tc := range []struct {
		name  string
		words []string
		want  func(in string, seq int) string
	}{
		{"line", []string{`printf '<%s>' {} {#} {%}`}, func(in string, seq int) string { return fmt.Sprintf("<%s><%d><7>", in, seq) }},
		{"argv", []string{"printf", "<%s>", "x{}y", "{#}", "{%}", "a b"}, func(in string, seq int) string { return fmt.Sprintf("<x%sy><%d><7><a b>", in, seq) }},
		{"appended", []string{"printf '<%s>'"}, func(in string, seq int) string { return "<" + in + ">" }},
	} {
		tmpl := client.NewCommandTemplate(tc.words...)
		for i, in := range inputs {
			line := tmpl.Expand(in, i+1)
			cmd := exec.Command("/bin/sh", "-c", line)
			cmd.Env = []string{"IPP_ENGINE_ID=7", "HOME=/nowhere"}
			got, err := cmd.Output()
			if want := tc.want(in, i+1); err != nil || string(got) != want {
				t.Errorf("%s: input %q: %s printed %q (%v), want %q", tc.name, in, line, got, err, want)
			}
		}
	}
	if !client.NewCommandTemplate("  ").Empty() || client.NewCommandTemplate("true").Empty() {
		t.Error("Empty misjudges a template")
	}
}

// Map on two Go engines: every task reported once with its output, retries counted, the
// progress counts add up; cancelling the context stops what runs and returns.
func TestMapOnGoEngines(t *testing.T) {
	ctx := testContext(t)
	cl := newCluster(t)
	if _, err := cl.StartController(ctx, clienttest.Go); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.StartEngines(clienttest.Go, 2); err != nil {
		t.Fatal(err)
	}
	c := connect(t, ctx, cl)
	waitForEngines(t, ctx, c, cl, 2)

	var tasks []client.MapTask
	for i := 1; i <= 50; i++ {
		tasks = append(tasks, client.MapTask{Seq: i, Input: fmt.Sprint(i)})
	}
	var results []client.MapResult
	var last client.MapProgress
	err := c.Map(ctx, tasks, client.MapOptions{
		Command: client.NewCommandTemplate("echo {}-{%}; test {} != 13"), Retries: 1, MaxInFlight: 4,
		OnProgress: func(p client.MapProgress) {
			if p.Running > 4 {
				t.Errorf("%d running with MaxInFlight 4", p.Running)
			}
			last = p
		},
	}, func(r client.MapResult) { results = append(results, r) })
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 50 || last != (client.MapProgress{Total: 50, Done: 50, Failed: 1}) {
		t.Fatalf("%d results, last progress %+v", len(results), last)
	}
	for _, r := range results {
		if want := fmt.Sprintf("%d-%d\n", r.Seq, r.EngineID); r.Stdout != want {
			t.Errorf("task %d printed %q, want %q", r.Seq, r.Stdout, want)
		}
		if r.Seq == 13 {
			var re *client.RemoteError
			if r.Attempts != 2 || r.ExitCode != 1 || !errors.As(r.Err, &re) {
				t.Errorf("failing task: %+v", r)
			}
		} else if r.Err != nil || r.Attempts != 1 || r.Host == "" {
			t.Errorf("task %d: %+v", r.Seq, r)
		}
	}

	// interrupted: returns soon with ctx's cause, the running tasks reported as interrupted
	stopCtx, cancel := context.WithCancelCause(ctx)
	var stopped []client.MapResult
	go func() {
		testutil.Within(time.Minute, func() bool {
			qs, err := c.QueueStatus(ctx, nil)
			return err == nil && qs.Engines[0].Tasks+qs.Engines[1].Tasks >= 2
		})
		cancel(errors.New("enough"))
	}()
	begin := time.Now()
	err = c.Map(stopCtx, tasks[:10], client.MapOptions{Command: client.NewCommandTemplate("sleep 600")},
		func(r client.MapResult) { stopped = append(stopped, r) })
	if err == nil || !strings.Contains(err.Error(), "enough") || time.Since(begin) > 30*time.Second {
		t.Fatalf("interrupted Map returned %v after %v", err, time.Since(begin))
	}
	if len(stopped) == 0 || slices.ContainsFunc(stopped, func(r client.MapResult) bool { return !r.Interrupted }) {
		t.Errorf("interrupted tasks reported as %+v", stopped)
	}
}
