// Package procstat reads Linux's /proc/<pid>/stat: whether a process lives (a zombie, which
// an init that does not reap may keep forever, counts as gone), its parent, group and start
// time, and its CPU times and resident memory, so that a process can be measured with all
// its descendants (the Python controller runs its schedulers as child processes; an
// engine's commands are its children). Elsewhere than Linux it finds no processes.
package procstat

import (
	"fmt"
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
	PGID           int           // its process group
	State          byte          // 'R' running, 'S' sleeping, ... 'Z' zombie, 'X' dead
	UTime, STime   time.Duration // its own CPU time, in user and kernel mode
	CUTime, CSTime time.Duration // the CPU time of its children that it has waited for
	StartTime      uint64        // clock ticks after boot: with PID, names the process across pid reuse
	RSS            int64         // resident memory, in bytes
}

// Live reports whether the process still runs: a zombie (ended, not yet reaped) does not.
func (p Proc) Live() bool { return p.State != 'Z' && p.State != 'X' }

// CPU is all the processor time the process accounts for: its own and its reaped children's.
func (p Proc) CPU() time.Duration { return p.UTime + p.STime + p.CUTime + p.CSTime }

// Stat reads one process; it fails when there is no such process.
func Stat(pid int) (Proc, error) {
	path := filepath.Join("/proc", strconv.Itoa(pid), "stat")
	data, err := os.ReadFile(path)
	if err != nil {
		return Proc{}, err
	}
	p, ok := parseStat(pid, data, int64(os.Getpagesize()))
	if !ok {
		return Proc{}, fmt.Errorf("malformed %s", path)
	}
	return p, nil
}

// Alive reports whether pid is a live process (a zombie counts as gone).
func Alive(pid int) bool {
	p, err := Stat(pid)
	return err == nil && p.Live()
}

// Parse reads a /proc/<pid>/stat line read elsewhere (on another host, over SSH).
func Parse(line []byte) (Proc, error) {
	pid, _, _ := strings.Cut(string(line), " ")
	n, err := strconv.Atoi(pid)
	if err != nil {
		return Proc{}, fmt.Errorf("not a /proc/<pid>/stat line: %.40q", line)
	}
	p, ok := parseStat(n, line, int64(os.Getpagesize()))
	if !ok {
		return Proc{}, fmt.Errorf("not a /proc/<pid>/stat line: %.40q", line)
	}
	return p, nil
}

// Table is a snapshot of the processes on the machine.
type Table struct {
	procs    map[int]Proc
	children map[int][]int
}

// Read takes a snapshot of every process it may read. Processes that end while it reads
// are left out.
func Read() Table {
	t := Table{procs: map[int]Proc{}, children: map[int][]int{}}
	for _, pid := range PIDs() {
		p, err := Stat(pid)
		if err != nil {
			continue
		}
		t.procs[pid] = p
		t.children[p.PPID] = append(t.children[p.PPID], pid)
	}
	return t
}

// PIDs lists the processes in /proc, for readers of their other files (cmdline, environ).
func PIDs() []int {
	entries, _ := os.ReadDir("/proc")
	pids := make([]int, 0, len(entries))
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// parseStat reads the fields of one /proc/<pid>/stat line that Proc holds.
func parseStat(pid int, stat []byte, page int64) (Proc, bool) {
	// The command name in parentheses may hold spaces and ')'; the fields after the last
	// ')' are: state(3) ppid(4) pgrp(5) ... utime(14) stime(15) cutime(16) cstime(17) ...
	// starttime(22) vsize(23) rss(24).
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return Proc{}, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 22 || len(f[0]) != 1 {
		return Proc{}, false
	}
	num := func(field int) int64 { // field numbered as in proc(5)
		n, _ := strconv.ParseInt(f[field-3], 10, 64)
		return n
	}
	ticks := func(field int) time.Duration { return time.Duration(num(field)) * clockTick }
	return Proc{
		PID: pid, PPID: int(num(4)), PGID: int(num(5)), State: f[0][0],
		UTime: ticks(14), STime: ticks(15), CUTime: ticks(16), CSTime: ticks(17),
		StartTime: uint64(num(22)), RSS: num(24) * page,
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
