package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ipcluster/launchers"
	"ipcluster/profiles"
)

// Clean removes a profile's cluster files, connection files and logs. A cluster whose
// controller still runs is an error unless force is set; then it is stopped first, so that
// cleaning never leaves processes or jobs nobody can find any more. The same holds for
// processes of the profile that no readable cluster file records (its file was damaged, or
// a controller was started by hand): they are named and left alone, or with force stopped.
func Clean(ctx context.Context, profileDir string, force bool, reg *launchers.Registry) error {
	unlock, err := lockAll(profileDir)
	if err != nil {
		return err
	}
	defer unlock()
	ls := newLauncherSet(reg, nil)
	defer ls.close()
	paths, err := Files(profileDir)
	if err != nil {
		return err
	}
	keep := map[string]bool{}    // connection files of running controllers ipcluster did not start
	keepIDs := map[string]bool{} // and the ids of those clusters: their processes are not ours to stop
	var unreadable []string
	for _, p := range paths {
		f, err := ReadFile(p)
		if err != nil { // nothing can be stopped through it: the processes below tell whether it is alive
			unreadable = append(unreadable, p)
			continue
		}
		running, _ := f.controllerRunning(ctx, ls)
		if running && !force {
			return fmt.Errorf("cluster %q in %s is running: stop it first, or use --force", f.Cluster.ClusterID, profileDir)
		}
		if running && f.Cluster.ExternalController {
			keepIDs[f.Cluster.ClusterID] = true
			for _, role := range []string{"client", "engine"} {
				keep[profiles.ConnectionFile(f.Cluster.ProfileDir, f.Cluster.ClusterID, role)] = true
			}
		}
		if err := stopFile(ctx, f, ls); err != nil {
			return err
		}
	}
	if err := stopUnrecorded(ctx, profileDir, force, keepIDs); err != nil {
		return err
	}
	logs, _ := filepath.Glob(filepath.Join(profiles.Dir(profileDir).Log(), "*"))
	conns, _ := filepath.Glob(filepath.Join(profiles.Dir(profileDir).Security(), "ipcontroller-*.json"))
	for _, p := range append(append(unreadable, logs...), conns...) {
		if keep[p] {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("clean %s: %w", profileDir, err)
		}
	}
	return nil
}

// stopUnrecorded handles the processes of the profile still running once every readable
// cluster file's cluster is stopped: an error naming them, or with force they are stopped.
func stopUnrecorded(ctx context.Context, profileDir string, force bool, keepIDs map[string]bool) error {
	var procs []Proc
	for _, p := range LiveProcesses(profileDir) {
		if !keepIDs[p.ClusterID] {
			procs = append(procs, p)
		}
	}
	if len(procs) == 0 {
		return nil
	}
	if force {
		if err := terminate(ctx, procs, 10*time.Second); err != nil {
			return fmt.Errorf("stop the processes of %s: %w", profileDir, err)
		}
		return nil
	}
	lines := make([]string, len(procs))
	pids := make([]string, len(procs))
	for i, p := range procs {
		lines[i] = "  " + p.String()
		pids[i] = fmt.Sprint(p.PID)
	}
	return fmt.Errorf("processes of a cluster in %s still run, though no readable cluster file records them; nothing was removed:\n%s\n"+
		"stop them (kill %s), or run `ipcluster clean --force` to stop them and clean", profileDir, strings.Join(lines, "\n"), strings.Join(pids, " "))
}

// lockAll takes the start lock of every cluster of the profile, so that a cluster being
// started is not cleaned under its ipcluster's feet.
func lockAll(profileDir string) (unlock func(), err error) {
	locks, _ := filepath.Glob(filepath.Join(profiles.Dir(profileDir).Security(), "cluster-*.lock"))
	var unlocks []func()
	unlock = func() {
		for _, u := range unlocks {
			u()
		}
	}
	for _, l := range locks {
		id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(l), "cluster-"), ".lock")
		u, err := lockCluster(profileDir, id)
		if errors.Is(err, errLocked) {
			unlock()
			return nil, fmt.Errorf("cluster %q in %s is being started by another ipcluster: wait for it, then stop it with `ipcluster stop`", id, profileDir)
		}
		if err != nil {
			unlock()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	return unlock, nil
}
