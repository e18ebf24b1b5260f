package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ipcluster/profiles"
)

// Proc is a live process of a cluster, found without its cluster file.
type Proc struct {
	PID       int
	ClusterID string
	Command   string
}

func (p Proc) String() string {
	return fmt.Sprintf("pid %d (cluster %q): %s", p.PID, p.ClusterID, p.Command)
}

// LiveProcesses lists the processes that belong to clusters of a profile, as far as this
// host can tell without cluster files: controllers named by the profile's pid files, and
// processes whose environment (IPP_PROFILE_DIR, set by every launcher) or command line
// (--profile-dir of ipcontroller, ipengine or `ipcluster start`) names the profile. This
// process and its ancestors are left out. Processes of other hosts or batch jobs are not
// seen; their cluster files and the scheduler's job list say where they are.
func LiveProcesses(profileDir string) []Proc {
	want := samePath(profileDir)
	skip := ancestors()
	found := map[int]Proc{}
	pidFiles, _ := filepath.Glob(filepath.Join(profiles.Dir(profileDir).Pid(), "ipcontroller*.pid"))
	for _, path := range pidFiles {
		data, _ := os.ReadFile(path)
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || skip[pid] {
			continue
		}
		argv := procArgs(pid)
		if argv == nil || !strings.Contains(strings.Join(argv, " "), "ipcontroller") { // gone, or the pid was reused
			continue
		}
		id := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSuffix(filepath.Base(path), ".pid"), "ipcontroller"), "-")
		found[pid] = Proc{PID: pid, ClusterID: id, Command: strings.Join(argv, " ")}
	}
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || skip[pid] {
			continue
		}
		if _, ok := found[pid]; ok {
			continue
		}
		argv := procArgs(pid)
		if argv == nil {
			continue
		}
		if dir, id, ok := clusterOfEnv(pid); ok && want(dir) {
			found[pid] = Proc{PID: pid, ClusterID: id, Command: strings.Join(argv, " ")}
		} else if dir, id, ok := clusterOfArgs(argv); ok && want(dir) {
			found[pid] = Proc{PID: pid, ClusterID: id, Command: strings.Join(argv, " ")}
		}
	}
	out := make([]Proc, 0, len(found))
	for _, p := range found {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// samePath matches paths naming dir (cleaned, symlinks resolved where they exist).
func samePath(dir string) func(string) bool {
	resolve := func(p string) string {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return filepath.Clean(p)
	}
	want := resolve(dir)
	return func(p string) bool { return p != "" && resolve(p) == want }
}

// ancestors are this process and its parents: an `ipcluster clean` run from an engine's
// shell must not count its own shell as part of a cluster.
func ancestors() map[int]bool {
	out := map[int]bool{}
	for pid := os.Getpid(); pid > 1 && !out[pid]; {
		out[pid] = true
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			break
		}
		i := bytes.LastIndexByte(stat, ')')
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 2 {
			break
		}
		pid, _ = strconv.Atoi(fields[1])
	}
	return out
}

// procArgs is a live process's command line; nil when it is gone or a zombie.
func procArgs(pid int) []string {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	if i := bytes.LastIndexByte(stat, ')'); i < 0 || len(stat) < i+3 || stat[i+2] == 'Z' {
		return nil
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(cmdline) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
}

// clusterOfEnv reads IPP_PROFILE_DIR and IPP_CLUSTER_ID from a process's environment
// (readable for the user's own processes only).
func clusterOfEnv(pid int) (dir, id string, ok bool) {
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return "", "", false
	}
	for _, kv := range strings.Split(string(env), "\x00") {
		if v, found := strings.CutPrefix(kv, "IPP_PROFILE_DIR="); found {
			dir, ok = v, true
		} else if v, found := strings.CutPrefix(kv, "IPP_CLUSTER_ID="); found {
			id = v
		}
	}
	return dir, id, ok
}

// clusterOfArgs reads --profile-dir and --cluster-id from the command line of a controller,
// an engine or an `ipcluster start`; other programs that name the profile (an editor, an
// `ipcluster list`) are no part of a cluster.
func clusterOfArgs(argv []string) (dir, id string, ok bool) {
	member := false
	for i, a := range argv {
		base := filepath.Base(a)
		if strings.HasPrefix(base, "ipcontroller") || strings.HasPrefix(base, "ipengine") ||
			strings.HasPrefix(a, "ipyparallel.controller") || strings.HasPrefix(a, "ipyparallel.engine") ||
			(base == "ipcluster" && i+1 < len(argv) && argv[i+1] == "start") {
			member = true
		}
		for _, name := range []string{"profile-dir", "cluster-id"} {
			var v string
			var has bool
			if v, has = strings.CutPrefix(a, "--"+name+"="); !has && a == "--"+name && i+1 < len(argv) {
				v, has = argv[i+1], true
			}
			if has && name == "profile-dir" {
				dir = v
			} else if has {
				id = v
			}
		}
	}
	return dir, id, member && dir != ""
}

// terminate stops processes: SIGTERM, then SIGKILL for those still there after grace.
func terminate(ctx context.Context, procs []Proc, grace time.Duration) error {
	alive := func() []Proc {
		var left []Proc
		for _, p := range procs {
			if procArgs(p.PID) != nil {
				left = append(left, p)
			}
		}
		return left
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		for _, p := range alive() {
			syscall.Kill(p.PID, sig)
		}
		deadline := time.Now().Add(grace)
		for len(alive()) > 0 && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-time.After(50 * time.Millisecond):
			}
		}
		if len(alive()) == 0 {
			return nil
		}
	}
	return fmt.Errorf("still running after SIGKILL: %v", alive())
}

// liveProcessesOf are the live processes of one cluster of a profile.
func liveProcessesOf(profileDir, clusterID string) []Proc {
	var out []Proc
	for _, p := range LiveProcesses(profileDir) {
		if p.ClusterID == clusterID {
			out = append(out, p)
		}
	}
	return out
}
