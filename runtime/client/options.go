package client

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"ipcluster/profiles"
	"ipcluster/remote"
	"ipcluster/runtime/transport"
)

// Defaults of Options.
const (
	DefaultConnectTimeout = 10 * time.Second // ipyparallel's Client(timeout=10)
	DefaultOutputGrace    = 10 * time.Second
)

// Options say where the controller is and how patient to be. The controller is found from
// the first of Info, ConnectionFile, or the profile (ProfileDir, else IPythonDir/profile_<Profile>)
// and ClusterID.
type Options struct {
	Info           *profiles.ClientInfo // an already-read ipcontroller-client.json
	ConnectionFile string               // path of ipcontroller[-<cluster>]-client.json
	ProfileDir     string
	Profile        string // profile name (default "default")
	IPythonDir     string // default $IPYTHONDIR or ~/.ipython
	ClusterID      string

	// ConnectTimeout bounds the wait for the connection file to appear and for the Hub's
	// connection_reply (default DefaultConnectTimeout); Connect's ctx may end it earlier.
	ConnectTimeout time.Duration

	// OutputGrace is how long a reply may wait for the engine's iopub "idle" status, which
	// marks its output complete, before the result is delivered without it. Engines always
	// send it; it can only be lost if the output subscription was not yet in place.
	OutputGrace time.Duration

	// ExecuteResults asks engines for the value of the code's last line (Result.ExecuteResult;
	// Python engines only), by sending requests as not silent. Engines then also echo the
	// code on iopub, which costs throughput, so it is off by default (as in ipyparallel's
	// view.execute).
	ExecuteResults bool

	// SSHServer tunnels every connection to the controller through this SSH server
	// ([user@]host[:port] or an ssh_config alias), like ipyparallel's Client(sshserver=...).
	// When empty, the connection file's "ssh" is used unless the controller runs on this
	// machine (see sshServer). SSHKey is a private key to offer first; SSH says how to reach
	// the server (ssh_config file, known_hosts, ...).
	SSHServer string
	SSHKey    string
	SSH       remote.Options

	Logger *slog.Logger // dropped and unexpected messages are logged at debug level
}

func (o *Options) setDefaults() {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.OutputGrace <= 0 {
		o.OutputGrace = DefaultOutputGrace
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// path is the connection file the options name.
func (o *Options) path() string {
	if o.ConnectionFile != "" {
		return o.ConnectionFile
	}
	dir := profiles.Locate(o.IPythonDir, o.Profile, o.ProfileDir)
	return profiles.ConnectionFile(dir, o.ClusterID, "client")
}

// loadInfo returns the connection info, waiting (like ipyparallel's Client) for the file
// to appear: a controller writes it only once its sockets are bound.
func (o *Options) loadInfo(ctx context.Context) (*profiles.ClientInfo, error) {
	if o.Info != nil {
		return o.Info, validate(o.Info, "connection info")
	}
	path := o.path()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var info profiles.ClientInfo
		err := profiles.ReadJSON(path, &info)
		if err == nil {
			return &info, validate(&info, path)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read connection file: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connection file %s did not appear: %w", path, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

func validate(info *profiles.ClientInfo, where string) error {
	for _, p := range []string{info.Pack, info.Unpack} {
		if p != "" && p != "json" {
			return fmt.Errorf("%s: pack/unpack %q is not supported (only json)", where, p)
		}
	}
	if info.Interface == "" || info.Registration == 0 {
		return fmt.Errorf("%s: no interface or registration port", where)
	}
	if curveServerKey(info) != "" && !transport.CurveSupported() {
		return fmt.Errorf("%s asks for CurveZMQ encryption (curve_serverkey): %w", where, transport.ErrCurveUnsupported)
	}
	return nil
}

// curveServerKey is the controller's CurveZMQ public key, or "" when it does not encrypt.
func curveServerKey(info *profiles.ClientInfo) string {
	if info.CurveServerKey == nil {
		return ""
	}
	return *info.CurveServerKey
}

// endpoint is the URL of a channel: interface ":" port, with a wildcard address replaced
// the way ipyparallel's disambiguate_url does (this machine, or the controller's location).
func endpoint(info *profiles.ClientInfo, port int) string {
	iface := info.Interface
	if scheme, host, ok := strings.Cut(iface, "://"); ok && (host == "0.0.0.0" || host == "*") {
		host = "127.0.0.1"
		if loc := info.Location; loc != "" && !isThisHost(loc) {
			host = loc
		}
		iface = scheme + "://" + host
	}
	return fmt.Sprintf("%s:%d", iface, port)
}

func isThisHost(name string) bool {
	host, err := os.Hostname()
	return err == nil && host == name || name == "localhost" || name == "127.0.0.1"
}
