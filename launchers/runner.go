package launchers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"ipcluster/remote"
)

// Runner runs a launcher's commands (sbatch, squeue, scancel ...) and reaches its files (job
// scripts, exit markers, job output): on this machine, or on a login host over one SSH
// connection, with files staged by SFTP, for clusters submitted to from outside (no shared
// file system needed).
type Runner interface {
	// Host is the login host, "" on this machine.
	Host() string
	// Run runs argv with env added and stdin (if not nil), returning the combined output; a
	// non-zero exit is an error quoting the command, the host and the output.
	Run(ctx context.Context, argv []string, env map[string]string, stdin []byte) (string, error)
	WriteFile(ctx context.Context, path string, data []byte, mode os.FileMode) error
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// Remove deletes a file; a missing file is not an error.
	Remove(ctx context.Context, path string) error
	Exists(ctx context.Context, path string) (bool, error)
	// Send copies a local file to path on the runner's host (0700 directories), e.g. the
	// connection files when the login node does not share this file system.
	Send(ctx context.Context, local, path string, mode os.FileMode) error
}

// LoginOptions select a login host for the batch launchers (c.BatchSystemLauncher.ssh_host,
// or ipcluster start --ssh-host).
type LoginOptions struct {
	SSHHost           string `config:"ssh_host" flag:"ssh-host" help:"run the scheduler's commands on this login host over SSH (alias, user@host or user@host:port); scripts and files are staged by SFTP"`
	SSHConfig         string `config:"ssh_config" help:"ssh_config file for ssh_host (like ssh -F; default ~/.ssh/config)"`
	AcceptNewHostKeys bool   `config:"accept_new_host_keys" help:"add ssh_host's key when known_hosts lacks it (like StrictHostKeyChecking=accept-new); a changed key is always refused"`
}

// Login is where a job's commands run, stored in its handle so that another process reaches
// the same host.
type Login struct {
	Host string         `json:"host"`
	Conn remote.Options `json:"ssh"`
}

// Login returns nil when no login host is set (commands run here).
func (o LoginOptions) Login() *Login {
	if o.SSHHost == "" {
		return nil
	}
	return &Login{Host: o.SSHHost, Conn: remote.Options{ConfigFile: o.SSHConfig, AcceptNewHostKeys: o.AcceptNewHostKeys}}
}

// Runners hands out runners, keeping one SSH connection per login host. The zero value is
// ready to use; a launcher keeps one for its lifetime.
type Runners struct {
	mu    sync.Mutex
	pools map[string]*remote.Pool
}

// For returns the runner for a login (nil: this machine).
func (r *Runners) For(l *Login) Runner {
	if l == nil || l.Host == "" {
		return localRunner{}
	}
	key, _ := json.Marshal(l.Conn)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pools == nil {
		r.pools = map[string]*remote.Pool{}
	}
	p := r.pools[string(key)]
	if p == nil {
		p = remote.NewPool(l.Conn)
		r.pools[string(key)] = p
	}
	return sshRunner{host: l.Host, pool: p}
}

// Close closes the connections to the login hosts (a later For dials again).
func (r *Runners) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, p := range r.pools {
		p.Close()
		delete(r.pools, key)
	}
}

// commandTimeout bounds every command a runner runs.
const commandTimeout = 60 * time.Second

type localRunner struct{}

func (localRunner) Host() string { return "" }

func (localRunner) Run(ctx context.Context, argv []string, env map[string]string, stdin []byte) (string, error) {
	if len(argv) == 0 || argv[0] == "" {
		return "", errors.New("no command configured")
	}
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("`%s` failed (%v):\n%s", strings.Join(argv, " "), err, indent(out.String()))
	}
	return out.String(), nil
}

func (localRunner) WriteFile(_ context.Context, path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, data, mode)
}

func (localRunner) ReadFile(_ context.Context, path string) ([]byte, error) { return os.ReadFile(path) }

func (localRunner) Remove(_ context.Context, path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (localRunner) Exists(_ context.Context, path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func (localRunner) Send(_ context.Context, local, path string, mode os.FileMode) error {
	if filepath.Clean(local) == filepath.Clean(path) {
		return nil
	}
	data, err := os.ReadFile(local)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, data, mode)
}
