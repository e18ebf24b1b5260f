package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"

	"ipcluster/launchers"
)

// Orphan is a batch job named for a cluster (ipcontroller-<id>, ipengine-<id>-<set>) whose
// cluster file is gone: nothing would ever stop it.
type Orphan struct {
	Launcher  string `json:"launcher"`
	ClusterID string `json:"cluster_id"`
	launchers.JobState
}

var (
	controllerJobName = regexp.MustCompile(`^ipcontroller-(.+)$`)
	engineJobName     = regexp.MustCompile(`^ipengine-(.+?)(?:-(\d+))?$`)
)

// clusterIDsOf are the cluster ids a job name may carry ("" when it is not one of ours).
func clusterIDsOf(name string) []string {
	if m := controllerJobName.FindStringSubmatch(name); m != nil {
		return []string{m[1]}
	}
	if m := engineJobName.FindStringSubmatch(name); m != nil {
		if m[2] != "" { // the id itself may end in -<digits>
			return []string{m[1], m[1] + "-" + m[2]}
		}
		return []string{m[1]}
	}
	return nil
}

// OrphanJobs asks every batch scheduler installed here for the user's jobs and returns those
// named for a cluster with no cluster file in any of profileDirs (only for cluster id only,
// when set). Schedulers that cannot be asked are reported in the error, the others still
// listed.
func OrphanJobs(ctx context.Context, reg *launchers.Registry, profileDirs []string, only string) ([]Orphan, error) {
	var out []Orphan
	var errs []error
	seen := map[string]bool{}
	ls := newLauncherSet(reg, nil)
	defer ls.close()
	for _, name := range reg.Names() {
		l, err := ls.get(name)
		if err != nil {
			continue
		}
		lister, ok := l.(launchers.JobLister)
		if !ok {
			continue
		}
		jobs, err := lister.ListJobs(ctx)
		if err != nil {
			if !errors.Is(err, errors.ErrUnsupported) {
				errs = append(errs, err)
			}
			continue
		}
		for _, j := range jobs {
			ids := clusterIDsOf(j.Name)
			if len(ids) == 0 || seen[j.ID+"\x00"+j.Name] || hasClusterFile(profileDirs, ids) {
				continue
			}
			id := ids[0]
			if only != "" {
				if !contains(ids, only) {
					continue
				}
				id = only
			}
			seen[j.ID+"\x00"+j.Name] = true
			out = append(out, Orphan{Launcher: name, ClusterID: id, JobState: j})
		}
	}
	return out, errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasClusterFile(profileDirs, ids []string) bool {
	for _, dir := range profileDirs {
		for _, id := range ids {
			if _, err := os.Stat(FilePath(dir, id)); err == nil {
				return true
			}
		}
	}
	return false
}

// CancelOrphans cancels the jobs, each with its own scheduler's cancel command.
func CancelOrphans(ctx context.Context, reg *launchers.Registry, orphans []Orphan) error {
	byLauncher := map[string][]string{}
	var order []string
	for _, o := range orphans {
		if byLauncher[o.Launcher] == nil {
			order = append(order, o.Launcher)
		}
		byLauncher[o.Launcher] = append(byLauncher[o.Launcher], o.ID)
	}
	var errs []error
	ls := newLauncherSet(reg, nil)
	defer ls.close()
	for _, name := range order {
		l, err := ls.get(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lister, ok := l.(launchers.JobLister)
		if !ok {
			errs = append(errs, fmt.Errorf("%s cannot cancel jobs by id", name))
			continue
		}
		if err := lister.CancelJobs(ctx, byLauncher[name]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
