package launchers

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"ipcluster/remote"
	"ipcluster/traitconfig"
)

// SSHOptions are ipyparallel's SSHLauncher settings (c.SSHLauncher.*, c.SSHEngineSetLauncher.*,
// c.SSHControllerLauncher.*), plus how to reach the hosts without an ssh binary.
type SSHOptions struct {
	Engines           SSHEngines    `config:"engines" type:"dict of host to n, (n, [args]) or {'n': n, 'engine_args': [...], 'engine_cmd': [...], 'remote_profile_dir': '...'}" help:"engines per host; keys are host, user@host or user@host:port (hosts are started in sorted order)"`
	Hostname          string        `config:"hostname" help:"host of the controller (SSHControllerLauncher) or of all engines when engines is empty"`
	User              string        `config:"user" help:"login user on hostname (default: the ssh config's, then yours)"`
	RemoteProfileDir  string        `config:"remote_profile_dir" help:"profile directory on the remote hosts (default: the local one, relative to the remote home when it is under yours)"`
	ToSend            []FilePair    `config:"to_send" help:"(local, remote) files to copy to each host before starting (default: the connection files, into the remote security/ with modes 0700/0600)"`
	ToFetch           []FilePair    `config:"to_fetch" help:"(remote, local) files to copy back after starting (default for a controller: its connection files)"`
	SSHArgs           []string      `config:"ssh_args" help:"OpenSSH options understood here: -F file, -i key, -o StrictHostKeyChecking=..., -o UserKnownHostsFile=..., -o ConnectTimeout=..."`
	SSHConfig         string        `config:"ssh_config" help:"ssh_config file used instead of ~/.ssh/config (like ssh -F)"`
	IdentityFiles     []string      `config:"identity_files" help:"private keys to offer after ssh-agent's (SSH_AUTH_SOCK) and before the config's IdentityFile"`
	KnownHosts        []string      `config:"known_hosts" help:"known_hosts files (default: the ssh config's UserKnownHostsFile, then ~/.ssh/known_hosts)"`
	AcceptNewHostKeys bool          `config:"accept_new_host_keys" help:"add the key of a host missing from known_hosts (like StrictHostKeyChecking=accept-new); a changed key is always refused"`
	ConnectTimeout    time.Duration `config:"connect_timeout" help:"seconds for each connection (TCP and SSH handshake)"`
	MaxParallel       int           `config:"max_parallel" help:"hosts contacted at once"`
	StopTimeout       time.Duration `config:"stop_timeout" help:"seconds between SIGTERM and SIGKILL when stopping"`
	CommandTimeout    time.Duration `config:"command_timeout" help:"seconds for each remote command or file copy"`
}

func defaultSSHOptions() SSHOptions {
	return SSHOptions{ConnectTimeout: 10 * time.Second, MaxParallel: 16, StopTimeout: 5 * time.Second, CommandTimeout: 30 * time.Second}
}

// connOptions turns the settings into connection options (ssh_args are read like ssh's).
func (o SSHOptions) connOptions() (remote.Options, error) {
	c := remote.Options{ConfigFile: o.SSHConfig, IdentityFiles: o.IdentityFiles, KnownHostsFiles: o.KnownHosts,
		AcceptNewHostKeys: o.AcceptNewHostKeys, ConnectTimeout: o.ConnectTimeout}
	args := o.SSHArgs
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if len(a) > 2 {
				return a[2:], nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("ssh_args: %s needs a value", a)
			}
			i++
			return args[i], nil
		}
		switch {
		case a == "-q" || a == "-T" || a == "-x" || a == "-tt" || a == "-t":
		case strings.HasPrefix(a, "-F"):
			v, err := next()
			if err != nil {
				return c, err
			}
			c.ConfigFile = v
		case strings.HasPrefix(a, "-i"):
			v, err := next()
			if err != nil {
				return c, err
			}
			c.IdentityFiles = append(c.IdentityFiles, v)
		case strings.HasPrefix(a, "-o"):
			v, err := next()
			if err != nil {
				return c, err
			}
			k, val, _ := strings.Cut(strings.Replace(v, " ", "=", 1), "=")
			switch strings.ToLower(k) {
			case "stricthostkeychecking":
				c.AcceptNewHostKeys = c.AcceptNewHostKeys || strings.EqualFold(val, "accept-new")
			case "userknownhostsfile":
				c.KnownHostsFiles = append(c.KnownHostsFiles, strings.Fields(val)...)
			case "connecttimeout":
				var n int
				if _, err := fmt.Sscan(val, &n); err != nil {
					return c, fmt.Errorf("ssh_args: -o %s: not a number of seconds", v)
				}
				c.ConnectTimeout = time.Duration(n) * time.Second
			case "batchmode", "loglevel", "identitiesonly":
			default:
				return c, fmt.Errorf("ssh_args: -o %s is not understood here; put it in the ssh config file (ssh_config) instead", k)
			}
		default:
			return c, fmt.Errorf("ssh_args: %s is not understood here; use a Host block in the ssh config (ssh_config) instead", a)
		}
	}
	return c, nil
}

// SSHHost is one entry of the engines dict: a count, (count, [args]), or a dict with n and
// per-host overrides.
type SSHHost struct {
	N                int      `config:"n" json:"n"`
	EngineArgs       []string `config:"engine_args" json:"engine_args,omitempty"`
	EngineCmd        []string `config:"engine_cmd" json:"engine_cmd,omitempty"`
	RemoteProfileDir string   `config:"remote_profile_dir" json:"remote_profile_dir,omitempty"`
}

const sshHostForms = "must be n, (n, [args]) or {'n': n, 'engine_args': [...], 'engine_cmd': [...], 'remote_profile_dir': '...'}"

// DecodeConfig reads the three forms.
func (h *SSHHost) DecodeConfig(v any) error {
	type fields SSHHost // the same fields without this method
	switch v := v.(type) {
	case int64:
		h.N = int(v)
	case []any:
		if len(v) != 2 {
			return errors.New(sshHostForms)
		}
		if err := traitconfig.DecodeValue(v[0], &h.N); err != nil {
			return err
		}
		if err := traitconfig.DecodeValue(v[1], &h.EngineArgs); err != nil {
			return err
		}
	case map[string]any:
		if _, ok := v["n"]; !ok {
			return errors.New("needs 'n': " + sshHostForms)
		}
		if err := traitconfig.DecodeValue(v, (*fields)(h)); err != nil {
			return err
		}
	default:
		return errors.New(sshHostForms)
	}
	if h.N < 0 {
		return fmt.Errorf("engine count %d is negative", h.N)
	}
	return nil
}

// SSHEngines maps host names to their engines.
type SSHEngines map[string]SSHHost

// Hosts are the host names, sorted: the config's dict order is not kept, so the order engines
// start (and which hosts a smaller n leaves out) is alphabetical.
func (e SSHEngines) Hosts() []string {
	out := make([]string, 0, len(e))
	for h := range e {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// Total is the number of engines the dict asks for.
func (e SSHEngines) Total() int {
	n := 0
	for _, h := range e {
		n += h.N
	}
	return n
}

// FilePair is a (source, destination) file: (local, remote) in to_send, (remote, local) in
// to_fetch.
type FilePair struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// DecodeConfig reads a 2-tuple (or list) of paths.
func (p *FilePair) DecodeConfig(v any) error {
	l, ok := v.([]any)
	if !ok || len(l) != 2 {
		return errors.New("must be a (source, destination) pair of paths")
	}
	if err := traitconfig.DecodeValue(l[0], &p.From); err != nil {
		return err
	}
	return traitconfig.DecodeValue(l[1], &p.To)
}
