package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"ipcluster/dashboard/mapstatus"
	"ipcluster/runtime/client"
)

// failedListed is how many failed inputs the summary names; the journal has them all.
const failedListed = 20

func mapCommand() *cli.Command {
	return &cli.Command{
		Name:      "map",
		Usage:     "run a command once per input, as load-balanced tasks on a running cluster",
		ArgsUsage: "[::: INPUT...] -- COMMAND TEMPLATE [::: INPUT...]",
		Description: "Inputs come from --each-line FILE (- for stdin), --range A-B[:STEP] or the arguments after :::.\n" +
			"In the command, {} is the input (shell-quoted), {#} its sequence number from 1 and {%} the id of\n" +
			"the engine that runs it (it becomes \"${IPP_ENGINE_ID}\", so not within single quotes); without\n" +
			"any of them, the input is appended. One argument is a shell command line; several are an\n" +
			"argument vector (each word quoted, an input always within one argument).\n" +
			"Tasks go through the controller's scheduler; a failed task runs again elsewhere (--retries).\n" +
			"Without --output-dir each task's output is printed when it finishes, every line prefixed with\n" +
			"[{#}]; with it, <dir>/{#}.out and {#}.err are written, with journal.jsonl (input, engine, host,\n" +
			"start, end, exit code, attempts per task), and --resume skips the inputs that succeeded there.\n" +
			"The exit status is 1 if any task failed (the summary names them), 130 if interrupted: Ctrl-C\n" +
			"aborts the queued tasks and stops the running commands. Go engines run the command; Python\n" +
			"engines run it in a subprocess.",
		Flags: append(profileFlags(),
			&cli.StringFlag{Name: "each-line", Usage: "read one input per line from `FILE` (- for stdin)"},
			&cli.StringFlag{Name: "range", Usage: "inputs are the numbers `A-B[:STEP]`"},
			&cli.IntFlag{Name: "retries", Usage: "run a failed task again up to `N` times, on other engines when there are"},
			&cli.DurationFlag{Name: "timeout", Usage: "stop each attempt after `D` (e.g. 10m; SIGTERM, then SIGKILL 5s later)"},
			&cli.IntFlag{Name: "max-in-flight", Usage: "tasks submitted at once (default 8 per engine)"},
			&cli.StringFlag{Name: "output-dir", Usage: "write each task's output and the journal to `DIR`"},
			&cli.BoolFlag{Name: "resume", Usage: "with --output-dir: skip inputs whose journal entry succeeded"},
			&cli.DurationFlag{Name: "progress-interval", Value: 10 * time.Second, Usage: "how often to print progress when stderr is not a terminal (0: never)"}),
		Action: runMap,
	}
}

func runMap(c *cli.Context) error {
	words, inputs, err := mapInputs(c)
	if err != nil {
		return err
	}
	tmpl := client.NewCommandTemplate(words...)
	if len(words) == 0 || tmpl.Empty() {
		return fmt.Errorf("no command: ipcluster map --range 1-10 -- echo {}")
	}
	if c.Int("retries") < 0 || c.Int("max-in-flight") < 0 || c.Duration("timeout") < 0 {
		return fmt.Errorf("--retries, --max-in-flight and --timeout cannot be negative")
	}
	if c.Bool("resume") && c.String("output-dir") == "" {
		return fmt.Errorf("--resume needs the --output-dir of the run to resume")
	}

	var out *outputDir
	skip := map[string]bool{}
	if dir := c.String("output-dir"); dir != "" {
		if out, skip, err = openOutputDir(dir, c.Bool("resume")); err != nil {
			return err
		}
		defer out.Close()
	}
	tasks := make([]client.MapTask, 0, len(inputs))
	skipped := 0
	for i, in := range inputs {
		if skip[in] {
			skipped++
			continue
		}
		tasks = append(tasks, client.MapTask{Seq: i + 1, Input: in})
	}

	ctx, stop := signalContext()
	defer stop()
	cl, err := client.Connect(ctx, client.Options{ProfileDir: profileDir(c), ClusterID: c.String("cluster-id"),
		ConnectTimeout: 10 * time.Second, Logger: logger(c)})
	if err != nil {
		return err
	}
	defer cl.Close()

	started := time.Now()
	progress := newMapProgress(os.Stderr, len(tasks), c.Duration("progress-interval"))
	status := mapstatus.Start(profileDir(c), c.String("cluster-id"), strings.Join(words, " "), len(tasks)) // for the dashboard
	defer status.Close()
	var failed []client.MapResult
	interrupted := 0
	var writeErr error
	report := func(r client.MapResult) {
		switch {
		case r.Interrupted:
			interrupted++
		case r.Err != nil:
			failed = append(failed, r)
		}
		if out != nil {
			if err := out.record(r); err != nil && writeErr == nil {
				writeErr = err
			}
		} else {
			prefix := fmt.Sprintf("[%d] ", r.Seq)
			progress.Print(os.Stdout, prefixLines(prefix, r.Stdout))
			progress.Print(os.Stderr, prefixLines(prefix, r.Stderr))
		}
		if r.Err != nil && !r.Interrupted {
			progress.Print(os.Stderr, fmt.Sprintf("[%d] failed (input %s, %d attempts): %v\n", r.Seq, r.Input, r.Attempts, describeFailure(r)))
		}
	}
	err = cl.Map(ctx, tasks, client.MapOptions{
		Command: tmpl, Retries: c.Int("retries"), Timeout: c.Duration("timeout"),
		MaxInFlight: c.Int("max-in-flight"), OnProgress: status.Tee(progress.Update),
	}, report)
	progress.Close()
	done := progress.state.Done
	fmt.Fprintln(os.Stderr, mapSummary(done, len(failed), interrupted, skipped, len(tasks), time.Since(started)))
	if len(failed) > 0 {
		fmt.Fprintln(os.Stderr, failedInputs(failed))
	}
	switch {
	case writeErr != nil:
		return writeErr
	case err != nil && ctx.Err() != nil:
		return cli.Exit("interrupted: queued tasks were aborted and running ones stopped", 130)
	case err != nil:
		return err
	case len(failed) > 0:
		return cli.Exit(fmt.Sprintf("%d of %d tasks failed", len(failed), len(tasks)), 1)
	}
	return nil
}

// mapInputs returns the command's words and the inputs, from exactly one source.
func mapInputs(c *cli.Context) (words, inputs []string, err error) {
	words, argInputs, fromArgs, err := splitMapArgs(c.Args().Slice())
	if err != nil {
		return nil, nil, err
	}
	sources := 0
	for _, given := range []bool{fromArgs, c.IsSet("each-line"), c.IsSet("range")} {
		if given {
			sources++
		}
	}
	switch {
	case sources == 0:
		return nil, nil, fmt.Errorf("no inputs: give --each-line FILE, --range A-B or ::: INPUT... (e.g. ipcluster map --range 1-10 -- echo {})")
	case sources > 1:
		return nil, nil, fmt.Errorf("inputs from more than one of --each-line, --range and ::: ; choose one")
	case fromArgs:
		inputs = argInputs
	case c.IsSet("each-line"):
		inputs, err = readLines(c.String("each-line"))
	default:
		inputs, err = parseRange(c.String("range"))
	}
	return words, inputs, err
}

// prefixLines puts prefix before every line of text, ending it with a newline.
func prefixLines(prefix, text string) string {
	if text == "" {
		return ""
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		if line != "" {
			b.WriteString(prefix + line)
		}
	}
	if !strings.HasSuffix(text, "\n") {
		b.WriteByte('\n')
	}
	return b.String()
}

// describeFailure says why a task failed, in a user's terms.
func describeFailure(r client.MapResult) string {
	switch {
	case r.TimedOut:
		return fmt.Sprintf("timed out (exit status %d)", r.ExitCode)
	case r.Interrupted:
		return "interrupted"
	}
	var re *client.RemoteError
	if errors.As(r.Err, &re) && re.EngineID >= 0 {
		return fmt.Sprintf("%s: %s", re.Name, re.Value) // the engine id is in the line already
	}
	return r.Err.Error()
}

func mapSummary(done, failed, interrupted, skipped, total int, took time.Duration) string {
	s := fmt.Sprintf("map: %d of %d tasks done in %s (%.1f tasks/s): %d succeeded, %d failed",
		done, total, took.Round(time.Millisecond), float64(done)/took.Seconds(), done-failed-interrupted, failed)
	if interrupted > 0 || done < total {
		s += fmt.Sprintf(", %d interrupted, %d not started", interrupted, total-done)
	}
	if skipped > 0 {
		s += fmt.Sprintf("; %d inputs skipped (succeeded in the journal)", skipped)
	}
	return s
}

func failedInputs(failed []client.MapResult) string {
	names := make([]string, 0, min(len(failed), failedListed))
	for _, r := range failed[:min(len(failed), failedListed)] {
		names = append(names, fmt.Sprintf("%d:%s", r.Seq, r.Input))
	}
	s := "failed inputs ({#}:input): " + strings.Join(names, " ")
	if len(failed) > failedListed {
		s += fmt.Sprintf(" ... and %d more", len(failed)-failedListed)
	}
	return s
}
