package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"ipcluster/profiles"
)

// errLocked: another ipcluster holds a cluster's start lock.
var errLocked = errors.New("locked by another ipcluster")

// lockPath is the start lock of a cluster: security/cluster-<id>.lock. It is never removed:
// a start that opened the old file and one that created a new one would both get "the" lock.
func lockPath(profileDir, clusterID string) string {
	return filepath.Join(profiles.Dir(profileDir).Security(), "cluster-"+clusterID+".lock")
}

// lockCluster takes a cluster's start lock without waiting, so that of several
// `ipcluster start` at once exactly one reads, checks and writes the cluster file and starts
// the controller; the others are told at once that the cluster is being started. The lock
// goes with the process (an ipcluster that is killed holds it no longer).
func lockCluster(profileDir, clusterID string) (unlock func(), err error) {
	path := lockPath(profileDir, clusterID)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the cluster's lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s)", errLocked, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing the last descriptor releases the lock
}
