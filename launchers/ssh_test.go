package launchers_test

import (
	"testing"

	"ipcluster/internal/sshtest"
	"ipcluster/launchers"
	"ipcluster/launchers/launchertest"
)

// The SSH launcher against the test sshd, logged in as root so that the suite's marker files
// (in a local temporary directory) are writable by the remote processes.
func TestSSHConformance(t *testing.T) {
	s := sshtest.Start(t)
	launchertest.Run(t, launchertest.Target{New: func(*testing.T) launchers.Launcher {
		eng := launchers.SSHOptions{SSHConfig: s.ConfigFile, ToSend: []launchers.FilePair{},
			Engines: launchers.SSHEngines{"root@ipp-host1": {N: 1}, "root@ipp-host2": {N: 3}}}
		ctl := launchers.SSHOptions{SSHConfig: s.ConfigFile, Hostname: "ipp-host3", User: "root", ToSend: []launchers.FilePair{}}
		return launchers.NewSSH(eng, ctl)
	}})
}
