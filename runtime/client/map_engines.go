package client

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// engineQueryTimeout bounds what Map asks engines about themselves (kind, host name).
const engineQueryTimeout = 10 * time.Second

// engineKinds is what Map knows of the engines: which run Python (their task is a Python
// program that runs the command) and which run shell commands (the Go engine), and the
// host each is on, for the journal. Used from Map's goroutine only.
type engineKinds struct {
	c      *Client
	python map[int]bool
	hosts  map[int]string
	asked  map[int]bool // engines already asked, answered or not
}

func newEngineKinds(ctx context.Context, c *Client) (*engineKinds, error) {
	k := &engineKinds{c: c, python: map[int]bool{}, hosts: map[int]string{}, asked: map[int]bool{}}
	ids := c.IDs()
	if len(ids) == 0 {
		return nil, fmt.Errorf("map: %w", ErrNoEngines)
	}
	k.learn(ctx, ids)
	if len(k.python) == 0 {
		return nil, fmt.Errorf("map: no engine answered kernel_info (which kind are they?)")
	}
	return k, nil
}

// learn asks engines their kind (kernel_info) and host name (a direct request). Engines
// that do not answer in time are left out; they are not asked again.
func (k *engineKinds) learn(ctx context.Context, ids []int) {
	ctx, cancel := context.WithTimeout(ctx, engineQueryTimeout)
	defer cancel()
	for _, id := range ids {
		k.asked[id] = true
	}
	infos, _ := k.c.KernelInfo(ctx, ids) // each answered engine has its Language
	var shells, pythons []int
	for _, info := range infos {
		switch {
		case info.Language == "":
			continue
		case info.Python():
			pythons = append(pythons, info.EngineID)
		default:
			shells = append(shells, info.EngineID)
		}
		k.python[info.EngineID] = info.Python()
	}
	var futs []*Future
	if len(shells) > 0 {
		f, _ := k.c.ExecuteAsync(ctx, shells, "uname -n")
		futs = append(futs, f...)
	}
	if len(pythons) > 0 {
		f, _ := k.c.ExecuteAsync(ctx, pythons, "import socket as _s; print(_s.gethostname()); del _s")
		futs = append(futs, f...)
	}
	for _, f := range futs {
		if r, err := f.Wait(ctx); err == nil && r.EngineID >= 0 {
			k.hosts[r.EngineID] = strings.TrimSpace(r.Stdout)
		}
	}
}

// learnNew asks the engines registered since Map started.
func (k *engineKinds) learnNew(ctx context.Context) {
	var fresh []int
	for _, id := range k.c.IDs() {
		if !k.asked[id] {
			fresh = append(fresh, id)
		}
	}
	if len(fresh) > 0 {
		k.learn(ctx, fresh)
	}
}

// host is the host name of an engine, asked for once if it is new.
func (k *engineKinds) host(id int) string {
	if !k.asked[id] {
		k.learn(context.Background(), []int{id})
	}
	return k.hosts[id]
}

// place picks the kind of engine for an attempt and the engines it may run on (nil: any).
// On a cluster of one kind the scheduler may choose any engine, except those the task
// already failed on while others are left. On a mixed cluster each attempt goes to the
// kind with fewer attempts in flight per engine, restricted to that kind's engines.
func (k *engineKinds) place(ctx context.Context, failedOn []int, inflight map[*attempt]bool) (python bool, targets []int) {
	k.learnNew(ctx)
	var shells, pythons []int
	for _, id := range k.c.IDs() {
		if p, known := k.python[id]; known && p {
			pythons = append(pythons, id)
		} else if known {
			shells = append(shells, id)
		}
	}
	if len(shells) == 0 || len(pythons) == 0 {
		python = len(pythons) > 0
		if len(failedOn) > 0 {
			if left := without(append(shells, pythons...), failedOn); len(left) > 0 {
				targets = left
			}
		}
		return python, targets
	}
	var busyShell, busyPython int
	for a := range inflight {
		if a.python {
			busyPython++
		} else {
			busyShell++
		}
	}
	python = busyPython*len(shells) < busyShell*len(pythons)
	kinds := [2][]int{shells, pythons}
	first, second := 0, 1
	if python {
		first, second = 1, 0
	}
	if left := without(kinds[first], failedOn); len(left) > 0 {
		return python, left
	}
	if left := without(kinds[second], failedOn); len(left) > 0 {
		return !python, left
	}
	return python, kinds[first]
}

func without(ids, drop []int) []int {
	var out []int
	for _, id := range ids {
		if !slices.Contains(drop, id) {
			out = append(out, id)
		}
	}
	return out
}
