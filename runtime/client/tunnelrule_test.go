package client

import (
	"os"
	"testing"

	"ipcluster/profiles"
)

// TestSSHServerRule: which SSH server the client tunnels through, as ipyparallel 7.1's
// Client decides from its sshserver argument and the client file's ssh, interface and
// location.
func TestSSHServerRule(t *testing.T) {
	here, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name                 string
		opts                 Options
		ssh, iface, location string
		want                 string
	}{
		{"explicit wins", Options{SSHServer: "me@gw:2200"}, "login", "tcp://127.0.0.1", here, "me@gw:2200"},
		{"loopback controller here: direct", Options{}, "login", "tcp://127.0.0.1", here, ""},
		{"loopback controller elsewhere: the file's ssh", Options{}, "login", "tcp://127.0.0.1", "192.0.2.1", "login"},
		{"wildcard controller here: direct", Options{}, "login", "tcp://*", here, ""},
		{"public interface: the file's ssh", Options{}, "login", "tcp://192.0.2.7", here, "login"},
		{"no ssh anywhere: direct", Options{}, "", "tcp://192.0.2.7", "192.0.2.7", ""},
		{"a key alone: the controller's host", Options{SSHKey: "/k"}, "", "tcp://192.0.2.7", "192.0.2.7", "192.0.2.7"},
	} {
		info := &profiles.ClientInfo{SSH: c.ssh, Interface: c.iface, Location: c.location, Registration: 1}
		if got := sshServer(&c.opts, info); got != c.want {
			t.Errorf("%s: tunnel through %q, want %q", c.name, got, c.want)
		}
	}
}
