package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestForegroundSSHControllerKeepsItsConnections: a foreground `ipcluster start` with its
// controller on an SSH host checks every 500 ms that the controller still runs; that check
// must reuse the launcher's connection, not open one more SSH connection per tick.
func TestForegroundSSHControllerKeepsItsConnections(t *testing.T) {
	e := newSSHEnv(t, "")
	e.config("c.SSHControllerLauncher.hostname = 'ipp-host4'\nc.SSHEngineSetLauncher.engines = {'ipp-host5': 1}\n")
	cmd := exec.Command(filepath.Join(binDir, "ipcluster"), "start", "--controller=ssh", "--engines=ssh")
	cmd.Env = e.environ()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() { // Ctrl-C: the cluster stops itself, also when the test failed
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("foreground start after Ctrl-C: %v", err)
			}
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			t.Error("foreground start did not end within a minute of Ctrl-C")
		}
		e.assertNoRemoteProcesses()
	}()
	drain := waitForLine(t, cmd, stderr, "press Ctrl-C to stop it", time.Minute)
	go func() { drain(); exited <- cmd.Wait() }()
	before := tcpConnections(t, cmd.Process.Pid, e.s.Port)
	if before == 0 {
		t.Fatalf("ipcluster has no connection to the sshd on port %d: the test does not see what it checks", e.s.Port)
	}
	// Six ticks of the controller check: each would have opened a connection.
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if n := tcpConnections(t, cmd.Process.Pid, e.s.Port); n > before {
			t.Fatalf("ipcluster holds %d SSH connections, %d when the cluster was up: the controller check dials anew", n, before)
		}
	}
}

// tcpConnections counts the established TCP connections of process pid to port.
func tcpConnections(t *testing.T, pid, port int) int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("read the fds of ipcluster: %v", err)
	}
	sockets := map[string]bool{}
	for _, fd := range fds {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && strings.HasPrefix(target, "socket:[") {
			sockets[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() { // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "01" || !strings.HasSuffix(fields[2], fmt.Sprintf(":%04X", port)) {
				continue
			}
			if sockets[fields[9]] {
				n++
			}
		}
		f.Close()
	}
	return n
}
