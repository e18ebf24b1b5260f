package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"ipcluster/launchers"
	"ipcluster/profiles"
)

// Clean removes a profile's cluster files, connection files and logs. A cluster whose
// controller still runs is an error unless force is set; then it is stopped first, so that
// cleaning never leaves processes or jobs nobody can find any more.
func Clean(ctx context.Context, profileDir string, force bool, reg *launchers.Registry) error {
	paths, err := Files(profileDir)
	if err != nil {
		return err
	}
	keep := map[string]bool{} // connection files of running controllers ipcluster did not start
	for _, p := range paths {
		f, err := ReadFile(p)
		if err != nil { // unreadable: nothing can be stopped through it
			os.Remove(p)
			continue
		}
		running, _ := f.controllerRunning(ctx, reg)
		if running && !force {
			return fmt.Errorf("cluster %q in %s is running: stop it first, or use --force", f.Cluster.ClusterID, profileDir)
		}
		if running && f.Cluster.ExternalController {
			for _, role := range []string{"client", "engine"} {
				keep[profiles.ConnectionFile(f.Cluster.ProfileDir, f.Cluster.ClusterID, role)] = true
			}
		}
		if err := stopFile(ctx, f, reg); err != nil {
			return err
		}
	}
	logs, _ := filepath.Glob(filepath.Join(profiles.Dir(profileDir).Log(), "*"))
	conns, _ := filepath.Glob(filepath.Join(profiles.Dir(profileDir).Security(), "ipcontroller-*.json"))
	for _, p := range append(logs, conns...) {
		if keep[p] {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("clean %s: %w", profileDir, err)
		}
	}
	return nil
}
