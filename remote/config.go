// Package remote is the SSH side of ipcluster: connections to hosts named as OpenSSH names
// them (aliases from ~/.ssh/config, user@host:port), authenticated by ssh-agent and identity
// files, with host keys checked against known_hosts; commands run over sessions multiplexed
// on one connection per host; files staged by SFTP; bounded fan-out over many hosts.
package remote

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kevinburke/ssh_config"
)

// Options say how to reach hosts. They are plain data, stored with what a launcher started so
// that another process can reconnect.
type Options struct {
	// ConfigFile is used instead of ~/.ssh/config and /etc/ssh/ssh_config (like ssh -F).
	ConfigFile string `json:"ssh_config,omitempty"`
	// IdentityFiles are tried after the agent and before the config's IdentityFile keys.
	IdentityFiles []string `json:"identity_files,omitempty"`
	// KnownHostsFiles replace UserKnownHostsFile from the config.
	KnownHostsFiles []string `json:"known_hosts,omitempty"`
	// AcceptNewHostKeys adds the key of a host not yet in known_hosts (OpenSSH's
	// StrictHostKeyChecking=accept-new); a changed key is always refused.
	AcceptNewHostKeys bool          `json:"accept_new_host_keys,omitempty"`
	ConnectTimeout    time.Duration `json:"connect_timeout,omitempty"` // per TCP connect + handshake; default 10 s
	KeepAlive         time.Duration `json:"keepalive,omitempty"`       // default 15 s
}

// Target is a resolved host: where to connect and how.
type Target struct {
	Name         string // as given: alias, user@alias or user@alias:port
	Alias        string
	HostName     string
	Port         int
	User         string
	Identities   []string
	OnlyIdentity bool     // IdentitiesOnly yes: no agent keys
	ProxyJump    []string // jump hosts, each resolved in turn
	KnownHosts   []string
	Strict       string // StrictHostKeyChecking: yes, accept-new, ...
	HostKeyAlias string
	Timeout      time.Duration
	KeepAlive    time.Duration
	AliveMax     int
}

// Addr is host:port to dial.
func (t Target) Addr() string { return joinHostPort(t.HostName, t.Port) }

// keyName is the name host keys are recorded under in known_hosts.
func (t Target) keyName() string {
	if t.HostKeyAlias != "" {
		if strings.HasPrefix(t.HostKeyAlias, "[") {
			return t.HostKeyAlias
		}
		return joinHostPort(t.HostKeyAlias, 22)
	}
	return t.Addr()
}

func joinHostPort(host string, port int) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// SplitName parses ipyparallel's host keys: host, user@host, user@host:port.
func SplitName(name string) (userName, host string, port int, err error) {
	host = name
	if i := strings.LastIndex(host, "@"); i >= 0 {
		userName, host = host[:i], host[i+1:]
	}
	if i := strings.LastIndex(host, ":"); i >= 0 && !strings.HasSuffix(host, "]") {
		p, perr := strconv.Atoi(host[i+1:])
		if perr != nil || p <= 0 || p > 65535 {
			return "", "", 0, fmt.Errorf("host %q: bad port %q", name, host[i+1:])
		}
		host, port = host[:i], p
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		return "", "", 0, fmt.Errorf("host %q: no host name", name)
	}
	return userName, host, port, nil
}

// configs are the ssh_config files consulted, first match wins (as in OpenSSH).
type configs []*ssh_config.Config

func loadConfigs(o Options) (configs, error) {
	var paths []string
	if o.ConfigFile != "" {
		paths = []string{expandHome(o.ConfigFile)}
	} else {
		paths = []string{filepath.Join(homeDir(), ".ssh", "config"), "/etc/ssh/ssh_config"}
	}
	var out configs
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			if os.IsNotExist(err) && o.ConfigFile == "" {
				continue
			}
			return nil, fmt.Errorf("ssh config: %w", err)
		}
		c, err := ssh_config.Decode(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("ssh config %s: %w", p, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func (cs configs) get(alias, key string) string {
	for _, c := range cs {
		if v, err := c.Get(alias, key); err == nil && v != "" {
			return v
		}
	}
	return ""
}

func (cs configs) getAll(alias, key string) []string {
	var out []string
	for _, c := range cs {
		v, _ := c.GetAll(alias, key)
		out = append(out, v...)
	}
	return out
}

// resolve turns a host name (alias, user@alias, user@alias:port) into a Target, reading the
// ssh_config files: HostName, User, Port, IdentityFile, IdentitiesOnly, ProxyJump,
// UserKnownHostsFile, StrictHostKeyChecking, HostKeyAlias, ConnectTimeout,
// ServerAliveInterval and ServerAliveCountMax. Explicit parts of the name win.
func (cs configs) resolve(o Options, name string) (Target, error) {
	u, alias, port, err := SplitName(name)
	if err != nil {
		return Target{}, err
	}
	t := Target{Name: name, Alias: alias, HostName: alias, Port: port, User: u}
	if h := cs.get(alias, "HostName"); h != "" {
		t.HostName = strings.ReplaceAll(h, "%h", alias)
	}
	if t.Port == 0 {
		t.Port = 22
		if p := cs.get(alias, "Port"); p != "" {
			if t.Port, err = strconv.Atoi(p); err != nil {
				return Target{}, fmt.Errorf("ssh config for %s: bad Port %q", alias, p)
			}
		}
	}
	if t.User == "" {
		t.User = cs.get(alias, "User")
	}
	if t.User == "" {
		if cu, err := user.Current(); err == nil {
			t.User = cu.Username
		}
	}
	expand := func(s string) string {
		r := strings.NewReplacer("%d", homeDir(), "%h", t.HostName, "%r", t.User, "%u", localUser(), "%n", alias, "%p", strconv.Itoa(t.Port), "%%", "%")
		return expandHome(r.Replace(s))
	}
	for _, f := range o.IdentityFiles {
		t.Identities = append(t.Identities, expand(f))
	}
	for _, f := range cs.getAll(alias, "IdentityFile") {
		t.Identities = append(t.Identities, expand(f))
	}
	if len(t.Identities) == 0 {
		for _, f := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			t.Identities = append(t.Identities, filepath.Join(homeDir(), ".ssh", f))
		}
	}
	t.OnlyIdentity = strings.EqualFold(cs.get(alias, "IdentitiesOnly"), "yes")
	if j := cs.get(alias, "ProxyJump"); j != "" && !strings.EqualFold(j, "none") {
		for _, hop := range strings.Split(j, ",") {
			t.ProxyJump = append(t.ProxyJump, strings.TrimPrefix(strings.TrimSpace(hop), "ssh://"))
		}
	}
	t.KnownHosts = o.KnownHostsFiles
	if len(t.KnownHosts) == 0 {
		if k := cs.get(alias, "UserKnownHostsFile"); k != "" {
			t.KnownHosts = strings.Fields(k)
		} else {
			t.KnownHosts = []string{filepath.Join(homeDir(), ".ssh", "known_hosts"), filepath.Join(homeDir(), ".ssh", "known_hosts2")}
		}
		if g := cs.get(alias, "GlobalKnownHostsFile"); g != "" {
			t.KnownHosts = append(t.KnownHosts, strings.Fields(g)...)
		} else {
			t.KnownHosts = append(t.KnownHosts, "/etc/ssh/ssh_known_hosts")
		}
	}
	for i, k := range t.KnownHosts {
		t.KnownHosts[i] = expand(k)
	}
	t.Strict = strings.ToLower(cs.get(alias, "StrictHostKeyChecking"))
	if o.AcceptNewHostKeys {
		t.Strict = "accept-new"
	}
	t.HostKeyAlias = cs.get(alias, "HostKeyAlias")
	t.Timeout = o.ConnectTimeout
	if s := cs.get(alias, "ConnectTimeout"); s != "" && t.Timeout == 0 {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			t.Timeout = time.Duration(n) * time.Second
		}
	}
	if t.Timeout == 0 {
		t.Timeout = 10 * time.Second
	}
	t.KeepAlive, t.AliveMax = o.KeepAlive, 3
	if s := cs.get(alias, "ServerAliveInterval"); s != "" && t.KeepAlive == 0 {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			t.KeepAlive = time.Duration(n) * time.Second
		}
	}
	if t.KeepAlive == 0 {
		t.KeepAlive = 15 * time.Second
	}
	if s := cs.get(alias, "ServerAliveCountMax"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			t.AliveMax = n
		}
	}
	return t, nil
}

func homeDir() string {
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "/"
}

func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

func expandHome(p string) string {
	if p == "~" {
		return homeDir()
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(homeDir(), p[2:])
	}
	return p
}
