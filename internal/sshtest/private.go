package sshtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipcluster/internal/procstat"
)

// Private is an sshd of one test's own, beside the shared one: same host key, users and
// keys, on a free port, with extra sshd_config lines (AllowTcpForwarding no, LogLevel
// DEBUG1, ...). A test may restart it, which drops every connection it serves, without
// disturbing other tests. It stops when the test ends.
type Private struct {
	Alias      string // ssh_config alias reaching it as the test user
	ConfigFile string // ssh_config with Alias (and the shared server's aliases)
	Port       int
	LogFile    string

	sshdConfig string
	cmd        *exec.Cmd
}

// StartPrivate starts a private sshd with extra sshd_config lines (they win over the shared
// configuration's, since sshd takes the first value of a keyword).
func (s Server) StartPrivate(t testing.TB, alias, extra string) *Private {
	t.Helper()
	base, err := os.ReadFile(filepath.Join(s.Dir, "sshd_config"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := regexp.MustCompile(`(?m)^(Port|PidFile) .*$`).ReplaceAllString(string(base), "")
	conf = fmt.Sprintf("%s\nPort %d\nPidFile %s\n%s", extra, port, filepath.Join(dir, "sshd.pid"), conf)
	p := &Private{Alias: alias, Port: port, LogFile: filepath.Join(dir, "sshd.log"), sshdConfig: filepath.Join(dir, "sshd_config")}
	if err := os.WriteFile(p.sshdConfig, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("/usr/sbin/sshd", "-t", "-f", p.sshdConfig).CombinedOutput(); err != nil {
		t.Fatalf("private sshd config: %v: %s", err, out)
	}
	hostKey, err := os.ReadFile(filepath.Join(s.Dir, "ssh_host_ed25519_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(hostKey))
	knownHosts := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(knownHosts, fmt.Appendf(nil, "[127.0.0.1]:%d %s %s\n", port, f[0], f[1]), 0o600); err != nil {
		t.Fatal(err)
	}
	p.ConfigFile = s.Config(t, s.HostBlock(alias, s.Key, knownHosts, port))
	p.start(t)
	t.Cleanup(p.stop)
	return p
}

func (p *Private) start(t testing.TB) {
	t.Helper()
	p.cmd = exec.Command("/usr/sbin/sshd", "-D", "-f", p.sshdConfig, "-E", p.LogFile)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start private sshd: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p.Port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(p.LogFile)
			t.Fatalf("private sshd on port %d did not listen within 15 s: %v\n%s", p.Port, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Restart kills the sshd and every process serving one of its connections (as a crash or a
// reboot of the server would: the clients' connections drop), then starts it again.
func (p *Private) Restart(t testing.TB) {
	t.Helper()
	p.stop()
	p.start(t)
}

// Kill stops the sshd and drops its connections, without starting it again.
func (p *Private) Kill() { p.stop() }

func (p *Private) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	pid := p.cmd.Process.Pid
	for _, d := range descendants(pid) {
		syscall.Kill(d, syscall.SIGKILL)
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()
	p.cmd = nil
}

// Log is what the sshd has logged so far.
func (p *Private) Log() string {
	b, _ := os.ReadFile(p.LogFile)
	return string(b)
}

// descendants lists the processes below pid, from /proc.
func descendants(pid int) []int {
	var out []int
	for _, p := range procstat.Read().Tree(pid) {
		if p.PID != pid {
			out = append(out, p.PID)
		}
	}
	return out
}
