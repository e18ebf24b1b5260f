package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"ipcluster/remote"
)

// SSHSettings say whether and how the engine reaches its controller through an SSH server,
// as ipyparallel's ipengine --ssh and --sshkey do.
type SSHSettings struct {
	SSHServer string `config:"sshserver" class:"IPEngine" help:"ssh server ([user@]host[:port] or an ~/.ssh/config alias) to tunnel every connection to the controller through (default: the connection file's ssh)"`
	SSHKey    string `config:"sshkey" class:"IPEngine" help:"private key file for the ssh tunnel (tried after ssh-agent's keys); alone, it tunnels through the controller's own host"`
}

// sshServer is the server to tunnel through, or "" for direct connections. As in
// ipyparallel's engine: the option wins over the connection file's "ssh"; a key alone means
// the controller's host itself.
func (e *Engine) sshServer() string {
	switch {
	case e.cfg.SSHServer != "":
		return e.cfg.SSHServer
	case e.cfg.Info.SSH != "":
		return e.cfg.Info.SSH
	case e.cfg.SSHKey != "":
		_, hostPort, _ := strings.Cut(e.ends.registration, "://")
		host := hostPort
		if i := strings.LastIndex(hostPort, ":"); i >= 0 {
			host = hostPort[:i]
		}
		return strings.Trim(host, "[]")
	}
	return ""
}

// openTunnel, when the engine tunnels, connects to the SSH server and replaces every
// controller endpoint with a local forward of it. The returned function closes the tunnel
// and adds to Run's error where the forwarded addresses it names really lead.
//
// The far end of each forward is the address the engine would dial without a tunnel, but
// dialled by the SSH server: the controller's interface from the connection file or, for a
// wildcard interface (0.0.0.0, *), its location, or loopback when the location is this
// host. This is ipyparallel's rule (disambiguate_url, then zmq's tunnel_connection to
// that address from the server): a controller bound to 127.0.0.1 is reached at 127.0.0.1
// on the SSH server (which must then be its host), one bound to a public address at that
// address.
//
// The engine's sockets connect to the local forwards and redial them by themselves; when
// the SSH connection drops, the next redial dials it again (see remote.Tunnel). If the
// server stays away, the heartbeat check ends the engine (ErrControllerGone) after
// max_heartbeat_misses checks, as for any lost controller.
func (e *Engine) openTunnel(ctx context.Context) (func(error) error, error) {
	server := e.sshServer()
	if server == "" {
		return func(err error) error { return err }, nil
	}
	var opts remote.Options
	if e.cfg.SSHKey != "" {
		opts.IdentityFiles = []string{e.cfg.SSHKey}
	}
	tun, err := remote.OpenTunnel(ctx, opts, server, e.log)
	if err != nil {
		return nil, err
	}
	urls := []*string{&e.ends.registration, &e.ends.control, &e.ends.mux, &e.ends.task, &e.ends.iopub, &e.ends.hbPing, &e.ends.hbPong}
	for i := range e.ends.broadcast {
		urls = append(urls, &e.ends.broadcast[i])
	}
	farRegistration := e.ends.registration
	for _, u := range urls {
		far := *u
		if *u, err = tun.ForwardURL(ctx, far); err != nil {
			tun.Close()
			return nil, fmt.Errorf("tunnel to the controller: %w", err)
		}
	}
	e.log.Info("tunnelling to the controller through ssh", "ssh", server, "registration", farRegistration, "local", e.ends.registration)
	return func(err error) error {
		tun.Close()
		if errors.Is(err, ErrRegistration) || errors.Is(err, ErrControllerGone) {
			err = fmt.Errorf("%w (%s is an ssh tunnel through %s to %s)", err, e.ends.registration, server, farRegistration)
		}
		return err
	}, nil
}
