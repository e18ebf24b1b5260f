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
	return stopFile(ctx, c.file, c.opts.Launchers)
}

// StopFile stops what a cluster file records (from any process).
func StopFile(ctx context.Context, f *File, reg *launchers.Registry) error {
	return stopFile(ctx, f, reg)
}

func stopFile(ctx context.Context, f *File, reg *launchers.Registry) error {
	var errs []error
	for id, h := range f.Engines.Sets {
		l, err := reg.New(h.Launcher, nil)
		if err == nil {
			err = l.Stop(ctx, h)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("stop engine set %s: %w", id, err))
		}
	}
	if f.Controller != nil && f.Controller.State != nil {
		l, err := reg.New(f.Controller.State.Launcher, nil)
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
func (f *File) controllerRunning(ctx context.Context, reg *launchers.Registry) (bool, error) {
	if f.Cluster.ExternalController {
		return externalControllerUp(ctx, f), nil
	}
	if f.Controller == nil || f.Controller.State == nil {
		return false, nil
	}
	l, err := reg.New(f.Controller.State.Launcher, nil)
	if err != nil {
		return false, err
	}
	st, err := l.Status(ctx, f.Controller.State)
	return err == nil && (st.Phase == launchers.Running || st.Phase == launchers.Pending), err
}

// ControllerRunning reports whether the controller a file records still runs.
func ControllerRunning(ctx context.Context, f *File, reg *launchers.Registry) (bool, error) {
	return f.controllerRunning(ctx, reg)
}
