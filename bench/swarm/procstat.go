package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// usage is the processor time and resident memory of a process with all its descendants
// (ipyparallel's controller runs its schedulers as child processes). Linux only.
type usage struct {
	cpu time.Duration
	rss int64 // bytes
}

// clockTick is the unit of CPU times in /proc/<pid>/stat (USER_HZ).
const clockTick = 10 * time.Millisecond

// treeUsage reads /proc for pid and its descendants; zero when pid is 0.
func treeUsage(pid int) usage {
	if pid <= 0 {
		return usage{}
	}
	children := map[int][]int{}
	own := map[int]usage{}
	page := int64(os.Getpagesize())
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// after "(comm)": state(3) ppid(4) ... utime(14) stime(15) ... rss(24), in pages
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 22 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		rss, _ := strconv.ParseInt(f[21], 10, 64)
		children[ppid] = append(children[ppid], p)
		own[p] = usage{cpu: time.Duration(utime+stime) * clockTick, rss: rss * page}
	}
	var total usage
	var walk func(int)
	walk = func(p int) {
		total.cpu += own[p].cpu
		total.rss += own[p].rss
		for _, c := range children[p] {
			walk(c)
		}
	}
	walk(pid)
	return total
}
