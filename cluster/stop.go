package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"

	"ipcluster/launchers"
)

// Load reads a cluster's file so that it can be watched or stopped.
func Load(profileDir, clusterID string, reg *launchers.Registry) (*File, error) {
	f, err := ReadFile(FilePath(profileDir, clusterID))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: no cluster file %s", ErrNotRunning, FilePath(profileDir, clusterID))
	}
	return f, err
}

// Stop stops the engines, then the controller, and removes the cluster file.
func (c *Cluster) Stop(ctx context.Context) error {
	err := stopFile(ctx, c.file, c.ls)
	return errors.Join(err, c.Close())
}

// Close releases what the cluster's launchers hold (their SSH connections) and leaves the
// cluster running: for a command that is done with a cluster it does not stop.
func (c *Cluster) Close() error { return c.ls.close() }

// ControllerRunning reports whether the cluster's controller still runs, asking the launcher
// that started it (no new connection per call).
func (c *Cluster) ControllerRunning(ctx context.Context) (bool, error) {
	return c.file.controllerRunning(ctx, c.ls)
}

// StopFile stops what a cluster file records (from any process).
func StopFile(ctx context.Context, f *File, reg *launchers.Registry) error {
	ls := newLauncherSet(reg, nil)
	defer ls.close()
	return stopFile(ctx, f, ls)
}

func stopFile(ctx context.Context, f *File, ls *launcherSet) error {
	var errs []error
	for id, h := range f.Engines.Sets {
		l, err := ls.get(h.Launcher)
		if err == nil {
			err = l.Stop(ctx, h)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("stop engine set %s: %w", id, err))
		}
	}
	if f.Controller != nil && f.Controller.State != nil {
		l, err := ls.get(f.Controller.State.Launcher)
		if err == nil {
			err = l.Stop(ctx, f.Controller.State)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("stop controller: %w", err))
		}
	}
	// A controller that was killed could not remove its connection files. Those of a
	// controller ipcluster did not start are its own: it still runs.
	if !f.Cluster.ExternalController {
		removeConnectionFiles(f.Cluster.ProfileDir, f.Cluster.ClusterID)
	}
	if len(errs) == 0 {
		if err := f.Remove(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// controllerRunning reports whether the file's controller still runs.
func (f *File) controllerRunning(ctx context.Context, ls *launcherSet) (bool, error) {
	if f.Cluster.ExternalController {
		return externalControllerUp(ctx, f), nil
	}
	if f.Controller == nil || f.Controller.State == nil {
		return false, nil
	}
	l, err := ls.get(f.Controller.State.Launcher)
	if err != nil {
		return false, err
	}
	st, err := l.Status(ctx, f.Controller.State)
	return err == nil && (st.Phase == launchers.Running || st.Phase == launchers.Pending), err
}
