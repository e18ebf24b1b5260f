package clienttest

import (
	"time"

	"ipcluster/internal/procstat"
)

// CPU is the processor time used so far by the controller and by the engines, each with
// all its descendants (the Python controller is a tree of processes; an engine's reaped
// commands count through its children's times). Linux only; zero elsewhere.
func (c *Cluster) CPU() (controller, engines time.Duration) {
	procs := procstat.Read()
	if c.Controller != nil {
		controller = treeCPU(procs, c.Controller.Pid())
	}
	for _, p := range c.Engines {
		engines += treeCPU(procs, p.Pid())
	}
	return controller, engines
}

func treeCPU(procs procstat.Table, pid int) time.Duration {
	var total time.Duration
	for _, p := range procs.Tree(pid) {
		total += p.CPU()
	}
	return total
}
