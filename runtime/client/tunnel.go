package client

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"ipcluster/profiles"
	"ipcluster/remote"
)

// sshServer is the SSH server the client tunnels through, or "" to connect directly. As
// ipyparallel 7.1's Client decides: an explicit server always; otherwise the connection
// file's "ssh", except when the controller listens on loopback and its location is this
// machine (the client then runs beside it); an explicit key alone tunnels through the
// controller's own host.
func sshServer(o *Options, info *profiles.ClientInfo) string {
	if o.SSHServer != "" {
		return o.SSHServer
	}
	host := endpointHost(info)
	local := net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback() || host == "localhost"
	if info.SSH != "" && !(local && info.Location != "" && locationIsHere(info.Location)) {
		return info.SSH
	}
	if o.SSHKey != "" {
		return host
	}
	return ""
}

// endpointHost is the host part of the controller's endpoints (after the wildcard rule).
func endpointHost(info *profiles.ClientInfo) string {
	_, hostPort, _ := strings.Cut(endpoint(info, 1), "://")
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return hostPort
	}
	return host
}

// locationIsHere tells whether the controller's location (a host name or address) is this
// machine: its host name, or a name or address of one of its interfaces.
func locationIsHere(location string) bool {
	if isThisHost(location) {
		return true
	}
	ips := []net.IP{net.ParseIP(location)}
	if ips[0] == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, location)
		if err != nil {
			return false // as ipyparallel: a name that does not resolve is not this machine
		}
		ips = ips[:0]
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	ifaces, _ := net.InterfaceAddrs()
	for _, ip := range ips {
		if ip.IsLoopback() {
			return true
		}
		for _, a := range ifaces {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return true
			}
		}
	}
	return false
}

// openTunnel, when the client tunnels, connects to the SSH server and forwards every
// controller port through it; c.urls then holds the local endpoints. The far end of each
// forward is the endpoint the client would dial directly (the interface, or for a wildcard
// interface the location), dialled by the SSH server, as ipyparallel's Client passes that
// URL to zmq's tunnel_connection.
func (c *Client) openTunnel(ctx context.Context) error {
	server := sshServer(&c.opts, &c.info)
	if server == "" {
		return nil
	}
	o := c.opts.SSH
	if c.opts.SSHKey != "" {
		o.IdentityFiles = append([]string{c.opts.SSHKey}, o.IdentityFiles...)
	}
	tun, err := remote.OpenTunnel(ctx, o, server, c.log)
	if err != nil {
		return err
	}
	c.urls = map[int]string{}
	for _, port := range []int{c.info.Registration, c.info.Control, c.info.Mux, c.info.Task, c.info.IOPub, c.info.Notification, c.info.Broadcast} {
		if _, done := c.urls[port]; done || port == 0 {
			continue
		}
		if c.urls[port], err = tun.ForwardURL(ctx, endpoint(&c.info, port)); err != nil {
			tun.Close()
			return fmt.Errorf("tunnel to the controller: %w", err)
		}
	}
	c.tunnel = tun
	c.log.Debug("tunnelling to the controller through ssh", "ssh", server)
	return nil
}

// url is where the client's socket for a controller port connects: the local forward
// when tunnelling, else the controller's endpoint.
func (c *Client) url(port int) string {
	if u, ok := c.urls[port]; ok {
		return u
	}
	return endpoint(&c.info, port)
}

// closeTunnel closes the tunnel, once the sockets are closed.
func (c *Client) closeTunnel() {
	if c.tunnel != nil {
		c.tunnel.Close()
	}
}
