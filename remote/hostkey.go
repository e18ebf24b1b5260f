package remote

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Host key errors.
var (
	ErrUnknownHostKey = errors.New("host key unknown")
	ErrHostKeyChanged = errors.New("host key changed")
)

// acceptMu serialises additions to known_hosts files within this process.
var acceptMu sync.Mutex

// hostKeyCheck checks a server's key against the target's known_hosts files. An unknown key
// is an error naming the host and the fix, unless StrictHostKeyChecking is accept-new (or the
// AcceptNewHostKeys option is set): then it is added to the first file. A changed key is
// always an error. It also returns the key algorithms known for the host, so that the
// server is asked for a key that can be checked.
func hostKeyCheck(t Target) (ssh.HostKeyCallback, []string, error) {
	var files []string
	for _, f := range t.KnownHosts {
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		}
	}
	var db ssh.HostKeyCallback
	if len(files) > 0 {
		var err error
		if db, err = knownhosts.New(files...); err != nil {
			return nil, nil, fmt.Errorf("read known_hosts: %w", err)
		}
	} else {
		db = func(string, net.Addr, ssh.PublicKey) error { return &knownhosts.KeyError{} }
	}
	name := t.keyName()
	algos := knownAlgorithms(db, name)
	acceptNew := t.Strict == "accept-new" || t.Strict == "no" || t.Strict == "off"
	cb := func(_ string, remote net.Addr, key ssh.PublicKey) error {
		err := db(name, remote, key)
		var ke *knownhosts.KeyError
		if err == nil || !errors.As(err, &ke) {
			return err
		}
		fp := ssh.FingerprintSHA256(key)
		if len(ke.Want) > 0 {
			w := ke.Want[0]
			return fmt.Errorf("%w for %s (%s): it offered %s %s but %s:%d has %s; if the host was really "+
				"reinstalled, remove the old key with `ssh-keygen -R '%s' -f %s` and connect again",
				ErrHostKeyChanged, t.Alias, knownhosts.Normalize(name), key.Type(), fp, w.Filename, w.Line,
				ssh.FingerprintSHA256(w.Key), knownhosts.Normalize(name), w.Filename)
		}
		if !acceptNew {
			where := "no known_hosts file exists"
			if len(files) > 0 {
				where = "not in " + strings.Join(files, ", ")
			}
			return fmt.Errorf("%w for %s (%s, %s %s; %s): check the fingerprint and add it with "+
				"`ssh-keyscan -p %d %s >> %s`, or connect once with `ssh -o StrictHostKeyChecking=accept-new %s`, "+
				"or set c.SSHLauncher.accept_new_host_keys = True", ErrUnknownHostKey, t.Alias, knownhosts.Normalize(name),
				key.Type(), fp, where, t.Port, t.HostName, firstOr(t.KnownHosts, "~/.ssh/known_hosts"), t.Name)
		}
		return appendKnownHost(firstOr(t.KnownHosts, filepath.Join(homeDir(), ".ssh", "known_hosts")), name, key)
	}
	return cb, algos, nil
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

func appendKnownHost(file, name string, key ssh.PublicKey) error {
	acceptMu.Lock()
	defer acceptMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("add host key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("add host key: %w", err)
	}
	defer f.Close()
	if _, err := fmt.Fprintln(f, knownhosts.Line([]string{knownhosts.Normalize(name)}, key)); err != nil {
		return fmt.Errorf("add host key to %s: %w", file, err)
	}
	return nil
}

// knownAlgorithms lists the host key algorithms known_hosts has for name (probing the
// database with a key it cannot hold), so the server offers a key that can be verified.
func knownAlgorithms(db ssh.HostKeyCallback, name string) []string {
	probe, err := ssh.ParsePublicKey(probeKey)
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if !errors.As(db(name, &net.TCPAddr{}, probe), &ke) {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, w := range ke.Want {
		t := w.Key.Type()
		if seen[t] {
			continue
		}
		seen[t] = true
		if t == ssh.KeyAlgoRSA {
			out = append(out, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256)
		}
		out = append(out, t)
	}
	return out
}

// probeKey is a fixed ed25519 public key that no host has (all zero bytes).
var probeKey = append([]byte{0, 0, 0, 11}, append([]byte("ssh-ed25519"), append([]byte{0, 0, 0, 32}, make([]byte, 32)...)...)...)
