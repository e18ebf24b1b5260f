package main

import (
	"time"

	"ipcluster/internal/procstat"
)

// usage is the processor time and resident memory of a process with all its descendants
// (ipyparallel's controller runs its schedulers as child processes). Linux only.
type usage struct {
	cpu time.Duration // including children it has reaped, so that a difference never goes back
	rss int64         // bytes
}

// treeUsage reads /proc for pid and its descendants; zero when pid is 0.
func treeUsage(pid int) usage {
	var total usage
	if pid <= 0 {
		return total
	}
	for _, p := range procstat.Read().Tree(pid) {
		total.cpu += p.CPU()
		total.rss += p.RSS
	}
	return total
}
