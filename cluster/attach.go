package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"ipcluster/launchers"
	"ipcluster/profiles"
	"ipcluster/runtime/client"
)

// Attach loads a running cluster's file to add engine sets to it. Without a cluster file,
// a controller started by hand (ipyparallel's `ipcontroller`, then `ipcluster engines`)
// is attached to through the profile's engine connection file: a new cluster file records
// the engines ipcluster starts, marked as beside an external controller, so that
// `ipcluster list` shows them and `ipcluster stop` stops them and never that controller.
//
// Unless told otherwise (engine_kind go or python, engine_cmd), the new engines are of the
// kind the cluster's engines already are.
func Attach(ctx context.Context, opts Options) (*Cluster, error) {
	f, err := Load(opts.ProfileDir, opts.ClusterID, opts.Launchers)
	if errors.Is(err, ErrNotRunning) {
		if f, err = externalFile(opts); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	// auto (the default) means the kind of the cluster's engines here, when the file knows it
	if kind := f.engineKind(); opts.engine == nil && (opts.EngineKind == "" || opts.EngineKind == EngineAuto) && len(opts.EngineCmd) == 0 && kind != "" {
		opts.EngineKind, opts.inheritedKind = kind, true
	}
	if _, err := opts.ChooseEngine(); err != nil {
		return nil, err
	}
	opts.setDefaults()
	c := &Cluster{opts: opts, ls: newLauncherSet(opts.Launchers, opts.Settings), file: f, engines: map[string]launchers.Launcher{}}
	if running, _ := c.ControllerRunning(ctx); !running {
		c.Close()
		return nil, fmt.Errorf("%w: the controller of %s is not running", ErrNotRunning, f.Path())
	}
	if f.Controller != nil && f.Controller.State != nil {
		if c.controller, err = c.ls.get(f.Controller.State.Launcher); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// externalFile is a new cluster file for engines beside a controller ipcluster did not
// start, found through its engine connection file (saved once engines are added).
func externalFile(opts Options) (*File, error) {
	conn := profiles.ConnectionFile(opts.ProfileDir, opts.ClusterID, "engine")
	if _, err := os.Stat(conn); err != nil {
		return nil, fmt.Errorf("%w: no cluster file %s and no engine connection file %s: start a controller first "+
			"(`ipcontroller --profile-dir=%s`, then `ipcluster engines`), or a whole cluster with `ipcluster start`",
			ErrNotRunning, FilePath(opts.ProfileDir, opts.ClusterID), conn, opts.ProfileDir)
	}
	if err := profiles.Dir(opts.ProfileDir).Ensure(); err != nil {
		return nil, err
	}
	return &File{path: FilePath(opts.ProfileDir, opts.ClusterID),
		Cluster: Settings{ClusterID: opts.ClusterID, ProfileDir: opts.ProfileDir, N: 0, ControllerArgs: []string{},
			Class: "ipcluster-go", ExternalController: true},
		Engines: EngineSets{Class: opts.EngineLauncher, Sets: map[string]*launchers.Handle{}},
	}, nil
}

// externalControllerUp reports whether a controller ipcluster did not start answers a
// client through the profile's connection file.
func externalControllerUp(ctx context.Context, f *File) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cl, err := client.Connect(ctx, client.Options{ProfileDir: f.Cluster.ProfileDir, ClusterID: f.Cluster.ClusterID, ConnectTimeout: 5 * time.Second})
	if err != nil {
		return false
	}
	cl.Close()
	return true
}
