// Package sshtest starts the test sshd (127.0.0.1, key-only auth, a test user, known_hosts,
// an ssh_config with host aliases) through scripts/setup-sshd.sh, once per test binary
// (under `make test`, which stops it at the end if this run started it).
package sshtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// Server describes the running test sshd.
type Server struct {
	Dir        string // state dir: keys, known_hosts, ssh_config, sshd.log
	Port       int
	User       string   // the unprivileged test user (root is also authorized)
	Aliases    []string // host aliases in ssh_config, all this server
	ConfigFile string   // ssh_config
	KnownHosts string
	Key        string // authorized private key
	RefusedKey string // a key no account accepts
}

var (
	once   sync.Once
	server Server
	errOut error
)

// Start makes sure the sshd runs and fails the test, with the fix, when it cannot.
func Start(t testing.TB) Server {
	t.Helper()
	once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "setup-sshd.sh")
		dir := envOr("SSHD_DIR", "/tmp/ipcluster-sshd")
		port, _ := strconv.Atoi(envOr("SSHD_PORT", "2222"))
		out, err := exec.Command(script).CombinedOutput()
		if err != nil {
			errOut = fmt.Errorf("cannot start the test sshd with scripts/setup-sshd.sh (%v):\n%s\nfix: run scripts/setup-sshd.sh as root "+
				"on Debian 12 (it installs openssh-server with apt-get and starts sshd on 127.0.0.1:%d without systemd)", err, out, port)
			return
		}
		server = Server{Dir: dir, Port: port, User: envOr("SSHD_USER", "ipptest"), ConfigFile: filepath.Join(dir, "ssh_config"),
			KnownHosts: filepath.Join(dir, "known_hosts"), Key: filepath.Join(dir, "id_ed25519"), RefusedKey: filepath.Join(dir, "refused_ed25519")}
		for i := 1; i <= 8; i++ {
			server.Aliases = append(server.Aliases, fmt.Sprintf("ipp-host%d", i))
		}
	})
	if errOut != nil {
		t.Fatal(errOut)
	}
	return server
}

// Config writes an ssh_config into dir with the server's aliases and extra host blocks (for
// failure cases: another key, another known_hosts, a closed port) and returns its path.
func (s Server) Config(t testing.TB, extra string) string {
	t.Helper()
	base, err := os.ReadFile(s.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ssh_config")
	// OpenSSH takes the first value per key: the extra blocks go first.
	if err := os.WriteFile(p, append([]byte(extra+"\n"), base...), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// HostBlock is an ssh_config block reaching this server as alias, with the given key,
// known_hosts file and port (for the failure cases), logged in as the test user.
func (s Server) HostBlock(alias, key, knownHosts string, port int) string {
	return fmt.Sprintf("Host %s\n  HostName 127.0.0.1\n  Port %d\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n",
		alias, port, s.User, key, knownHosts)
}

// UnknownHostsFile is an empty known_hosts file.
func (s Server) UnknownHostsFile(t testing.TB) string {
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
