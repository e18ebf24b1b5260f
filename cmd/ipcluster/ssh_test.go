package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/sshtest"
	"ipcluster/internal/testutil"
)

// sshEnv is a scratch IPython directory whose SSH launchers reach the test sshd as the test
// user, with a remote profile directory of its own under that user's home.
type sshEnv struct {
	*env
	s      sshtest.Server
	cfg    string // ssh_config
	rpd    string // remote profile dir, relative to the remote home
	remote string // the same, as a local path (the hosts are this machine)
}

func newSSHEnv(t *testing.T, extraHosts string) *sshEnv {
	s := sshtest.Start(t)
	os.Chmod(binDir, 0o755) // the remote user runs our ipengine and ipcontroller from here
	e := &sshEnv{env: newEnv(t), s: s, cfg: s.Config(t, extraHosts)}
	e.rpd = fmt.Sprintf("ipp-test-%s-%d/profile_default", t.Name(), time.Now().UnixNano())
	e.remote = filepath.Join("/home", s.User, e.rpd)
	t.Cleanup(func() {
		e.assertNoRemoteProcesses()
		os.RemoveAll(filepath.Dir(e.remote))
	})
	return e
}

// config writes ipcluster_config.py with the SSH settings and more lines.
func (e *sshEnv) config(more string) {
	e.writeConfig(fmt.Sprintf("c.SSHLauncher.ssh_config = %q\nc.SSHLauncher.remote_profile_dir = %q\n"+
		"c.EngineLauncher.engine_cmd = [%q]\n", e.cfg, e.rpd, filepath.Join(binDir, "ipengine")) + more)
}

// remoteProcesses lists processes (of any user) whose command line names the remote
// profile directory.
func (e *sshEnv) remoteProcesses() []string { return processesMentioning(filepath.Dir(e.rpd)) }

func (e *sshEnv) assertNoRemoteProcesses() {
	e.t.Helper()
	if !testutil.Within(10*time.Second, func() bool { return len(e.remoteProcesses()) == 0 }) {
		e.t.Fatalf("remote processes left behind:\n%s", strings.Join(e.remoteProcesses(), "\n"))
	}
}

func TestSSHEngineSetStartListStop(t *testing.T) {
	e := newSSHEnv(t, "")
	e.config("c.SSHEngineSetLauncher.engines = {'ipp-host1': 1, 'ipp-host2': 2, 'ipp-host3': {'n': 2, 'engine_args': ['--log-level=DEBUG']}}\n")
	out := e.mustIPCluster("start", "--engines=ssh", "--daemonize")
	if !strings.Contains(out, "5/5 registered") {
		t.Fatalf("start output:\n%s", out)
	}
	if got := engineCount(e.env, ""); got != "[0, 1, 2, 3, 4]" {
		t.Fatalf("Python Client() sees %s", got)
	}
	for _, f := range []string{"security", "security/ipcontroller-client.json", "security/ipcontroller-engine.json"} {
		fi, err := os.Stat(filepath.Join(e.remote, f))
		want := os.FileMode(0o600)
		if f == "security" {
			want = 0o700
		}
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("remote %s: %v %v, want mode %v", f, fi.Mode(), err, want)
		}
	}
	list := e.mustIPCluster("list")
	for _, host := range []string{"@ipp-host1", "@ipp-host2", "@ipp-host3"} {
		if !strings.Contains(list, host) {
			t.Errorf("list does not show %s:\n%s", host, list)
		}
	}
	var statuses []struct {
		PIDs  []int    `json:"pids"`
		Hosts []string `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(e.mustIPCluster("list", "-o", "json")), &statuses); err != nil || len(statuses) != 1 || len(statuses[0].PIDs) != 6 {
		t.Fatalf("list -o json: %v %+v", err, statuses)
	}
	if len(e.remoteProcesses()) < 5 {
		t.Errorf("remote engines: %v", e.remoteProcesses())
	}
	e.mustIPCluster("stop")
	e.assertNoRemoteProcesses()
}

func TestSSHRemoteControllerWithPythonClient(t *testing.T) {
	e := newSSHEnv(t, "")
	e.config("c.SSHControllerLauncher.hostname = 'ipp-host4'\n" +
		"c.SSHEngineSetLauncher.engines = {'ipp-host5': 2}\n" +
		"c.SSHEngineSetLauncher.engine_cmd = ['/usr/bin/python3', '-m', 'ipyparallel.engine']\n")
	e.mustIPCluster("start", "--controller=ssh", "--engines=ssh", "--daemonize")
	if _, err := os.Stat(filepath.Join(e.remote, "security", "ipcontroller-client.json")); err != nil {
		t.Errorf("the controller's files are not on its host: %v", err)
	}
	got := e.python(fmt.Sprintf(`
import os, pwd, ipyparallel as ipp
c = ipp.Client()
c.wait_for_engines(2, timeout=30)
users = c[:].apply_sync(lambda: __import__('pwd').getpwuid(__import__('os').getuid()).pw_name)
print(sorted(c.ids), users)`))
	if got != fmt.Sprintf("[0, 1] ['%s', '%s']", e.s.User, e.s.User) {
		t.Fatalf("Python Client: %s", got)
	}
	if list := e.mustIPCluster("list"); !strings.Contains(list, "@ipp-host4") || !strings.Contains(list, "running") {
		t.Errorf("list:\n%s", list)
	}
	e.mustIPCluster("stop")
	e.assertNoRemoteProcesses()
}

func TestSSHFailuresAreFastAndClear(t *testing.T) {
	s := sshtest.Start(t)
	extra := s.HostBlock("ipp-unknown", s.Key, s.UnknownHostsFile(t), s.Port) +
		s.HostBlock("ipp-refused", s.RefusedKey, s.KnownHosts, s.Port) +
		s.HostBlock("ipp-closed", s.Key, s.KnownHosts, 1)
	cases := []struct {
		name, engines string
		want          []string
	}{
		{"unknown host key", "'ipp-unknown': 1", []string{"host key unknown for ipp-unknown", "ssh-keyscan", "accept_new_host_keys"}},
		{"refused key", "'ipp-refused': 1", []string{"ssh ipp-refused", "authentication refused", "authorized_keys"}},
		{"unreachable port", "'ipp-closed': 1", []string{"ssh ipp-closed", "127.0.0.1:1", "connection refused"}},
		{"engine exits at once", "'ipp-host2': {'n': 1, 'engine_cmd': ['/bin/sh', '-c', 'echo engine broken >&2; exit 4']}",
			[]string{"on ipp-host2 exited with status 4", "engine broken"}},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			e := newSSHEnv(t, extra)
			e.config("c.SSHEngineSetLauncher.engines = {'ipp-host1': 2, " + c.engines + "}\n")
			start := time.Now()
			out, code := e.ipcluster("start", "--engines=ssh", "--daemonize")
			if code == 0 {
				t.Fatalf("start succeeded:\n%s", out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("message lacks %q:\n%s", w, out)
				}
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("failing took %v", d)
			}
			e.assertNoRemoteProcesses() // ipp-host1's engines were stopped
		})
	}
}
