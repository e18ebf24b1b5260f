package launchers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"ipcluster/internal/procstat"
	"ipcluster/internal/sshtest"
	"ipcluster/launchers"
	"ipcluster/launchers/launchertest"
	"ipcluster/remote"
)

// The SSH launcher against the test sshd, logged in as root so that the suite's marker files
// (in a local temporary directory) are writable by the remote processes.
func TestSSHConformance(t *testing.T) {
	s := sshtest.Start(t)
	launchertest.Run(t, launchertest.Target{
		New: func(*testing.T) launchers.Launcher {
			eng := launchers.SSHOptions{SSHConfig: s.ConfigFile, ToSend: []launchers.FilePair{},
				Engines: launchers.SSHEngines{"root@ipp-host1": {N: 1}, "root@ipp-host2": {N: 3}}}
			ctl := launchers.SSHOptions{SSHConfig: s.ConfigFile, Hostname: "ipp-host3", User: "root", ToSend: []launchers.FilePair{}}
			return launchers.NewSSH(eng, ctl)
		},
		Hosts:         []string{"root@ipp-host1", "root@ipp-host2"},
		RemoteRunning: func(t *testing.T, procs []launchers.Process) []launchers.Process { return remoteRunning(t, s, procs) },
	})
}

// remoteRunning asks each process's host, over its own SSH connection, whether the process
// (same pid and start time, not a zombie) still runs.
func remoteRunning(t *testing.T, s sshtest.Server, procs []launchers.Process) []launchers.Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var running []launchers.Process
	for _, p := range procs {
		c, err := remote.Dial(ctx, remote.Options{ConfigFile: s.ConfigFile}, p.Host)
		if err != nil {
			t.Fatalf("check process %d on %s: %v", p.PID, p.Host, err)
		}
		r, err := c.Run(ctx, fmt.Sprintf("cat /proc/%d/stat", p.PID), nil)
		c.Close()
		if err != nil {
			t.Fatalf("check process %d on %s: %v", p.PID, p.Host, err)
		}
		if r.Code != 0 {
			continue // no such process
		}
		stat, err := procstat.Parse(r.Stdout)
		if err != nil {
			t.Fatalf("check process %d on %s: %v", p.PID, p.Host, err)
		}
		if stat.Live() && (p.StartTime == 0 || stat.StartTime == p.StartTime) {
			running = append(running, p)
		}
	}
	return running
}
