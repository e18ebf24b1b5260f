// Package procstat reads the CPU times and resident memory of processes from Linux's
// /proc/<pid>/stat, so that a process can be measured with all its descendants (the
// Python controller runs its schedulers as child processes; an engine's commands are its
// children). Elsewhere than Linux it finds no processes.
package procstat

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// Proc is one process as /proc/<pid>/stat describes it.
type Proc struct {
	PID, PPID      int
	UTime, STime   time.Duration // its own CPU time, in user and kernel mode
	CUTime, CSTime time.Duration // the CPU time of its children that it has waited for
	RSS            int64         // resident memory, in bytes
}

// CPU is all the processor time the process accounts for: its own and its reaped children's.
func (p Proc) CPU() time.Duration { return p.UTime + p.STime + p.CUTime + p.CSTime }

// Table is a snapshot of the processes on the machine.
type Table struct {
	procs    map[int]Proc
	children map[int][]int
}

// Read takes a snapshot of every process it may read. Processes that end while it reads
// are left out.
func Read() Table {
	t := Table{procs: map[int]Proc{}, children: map[int][]int{}}
	page := int64(os.Getpagesize())
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
		p, ok := parseStat(pid, stat, page)
		if !ok {
			continue
		}
		t.procs[pid] = p
		t.children[p.PPID] = append(t.children[p.PPID], pid)
	}
	return t
}

// parseStat reads the fields of one /proc/<pid>/stat line that Proc holds.
func parseStat(pid int, stat []byte, page int64) (Proc, bool) {
	// The command name in parentheses may hold spaces and ')'; the fields after the last
	// ')' are: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17) ... rss(24).
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return Proc{}, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 22 {
		return Proc{}, false
	}
	num := func(field int) int64 { // field numbered as in proc(5)
		n, _ := strconv.ParseInt(f[field-3], 10, 64)
		return n
	}
	ticks := func(field int) time.Duration { return time.Duration(num(field)) * clockTick }
	return Proc{
		PID: pid, PPID: int(num(4)),
		UTime: ticks(14), STime: ticks(15), CUTime: ticks(16), CSTime: ticks(17),
		RSS: num(24) * page,
	}, true
}

// Tree returns pid and all its descendants in the snapshot (none if pid is not in it).
func (t Table) Tree(pid int) []Proc {
	p, ok := t.procs[pid]
	if !ok {
		return nil
	}
	tree := []Proc{p}
	for _, child := range t.children[pid] {
		tree = append(tree, t.Tree(child)...)
	}
	return tree
}
