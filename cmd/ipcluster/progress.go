package main

import (
	"fmt"
	"io"
	"strings"

	"ipcluster/cluster"
	"ipcluster/launchers"
)

// progressPrinter prints a line whenever what `start` waits for changes.
func progressPrinter(w io.Writer) func(cluster.Progress) {
	var last string
	return func(p cluster.Progress) {
		var line string
		switch p.Step {
		case "engine-kind":
			line = "engines: " + p.Note
		case "controller":
			line = "controller: " + jobs(p.ControllerJobs, "") + phase(p.Controller) + ", waiting for its connection files"
		case "engines":
			line = fmt.Sprintf("engines: %d/%d registered (%s%s)", p.Registered, p.Requested, jobs(p.EngineJobs, "launcher: "), phase(p.Engines))
		case "ready":
			line = fmt.Sprintf("engines: %d/%d registered", p.Registered, p.Requested)
		}
		if line != last {
			fmt.Fprintln(w, line)
			last = line
		}
	}
}

// jobs names the batch jobs a state belongs to, or gives the label for processes.
func jobs(ids []string, label string) string {
	if len(ids) == 0 {
		return label
	}
	return "job " + strings.Join(ids, ",") + ": "
}

func phase(st launchers.State) string {
	s := string(st.Phase)
	if (st.Phase == launchers.Pending || st.Phase == launchers.Running) && st.Reason != "" {
		s += " (" + st.Reason + ")"
	}
	return s
}
