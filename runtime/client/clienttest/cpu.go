package clienttest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of CPU times in /proc/<pid>/stat (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// CPU is the processor time used so far by the controller and by the engines, each with
// all its descendants (the Python controller is a tree of processes; an engine's reaped
// commands count through its children's times). Linux only; zero elsewhere.
func (c *Cluster) CPU() (controller, engines time.Duration) {
	tree := readProcTree()
	if c.Controller != nil {
		controller = tree.total(c.Controller.Pid())
	}
	for _, p := range c.Engines {
		engines += tree.total(p.Pid())
	}
	return controller, engines
}

type procTree struct {
	children map[int][]int
	ticks    map[int]int64 // utime+stime+cutime+cstime
}

func readProcTree() procTree {
	t := procTree{children: map[int][]int{}, ticks: map[int]int64{}}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// fields after "(comm)": state ppid ... utime(14) stime(15) cutime(16) cstime(17)
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		var sum int64
		for _, s := range f[11:15] {
			n, _ := strconv.ParseInt(s, 10, 64)
			sum += n
		}
		t.children[ppid] = append(t.children[ppid], pid)
		t.ticks[pid] = sum
	}
	return t
}

func (t procTree) total(pid int) time.Duration { return time.Duration(t.sum(pid)) * clockTick }

func (t procTree) sum(pid int) int64 {
	n := t.ticks[pid]
	for _, child := range t.children[pid] {
		n += t.sum(child)
	}
	return n
}
