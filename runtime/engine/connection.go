package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"ipcluster/profiles"
	"ipcluster/runtime/transport"
)

// ErrNoConnectionInfo is returned by Source.Load when no connection information could be
// found within the wait.
var ErrNoConnectionInfo = errors.New("no controller connection information")

// filePoll is how often Source.Load looks for a connection file that is not there yet.
// ipyparallel polls every 0.1 s as well.
const filePoll = 100 * time.Millisecond

// badFileSettle is how long a connection file that exists but cannot be used must stay
// unchanged before Load gives up on it: a controller (ipyparallel's writes in place) may
// be writing it right then, and writes it whole within milliseconds.
const badFileSettle = 500 * time.Millisecond

// Source says where an engine finds its controller, in ipyparallel's order: the engine
// connection JSON handed over in the environment (IPP_CONNECTION_INFO, 8.x launchers),
// else an explicit file (--file), else the profile's ipcontroller[-<cluster_id>]-engine.json.
type Source struct {
	// ConnectionInfo is the engine connection JSON itself (the value of IPP_CONNECTION_INFO).
	ConnectionInfo string
	// File is an explicit connection file (--file); it is used instead of ConnectionInfo.
	File string `config:"url_file" class:"IPEngine" help:"engine connection file (default <profile_dir>/security/ipcontroller[-<cluster_id>]-engine.json)"`
	// ProfileDir and ClusterID name the default file when neither of the above is given.
	ProfileDir string
	ClusterID  string
	// Wait bounds how long to wait for the file to appear (a controller writes it only once
	// its sockets are bound, and batch jobs often start engines before that).
	Wait time.Duration `config:"wait_for_url_file" class:"IPEngine" help:"seconds to wait for the connection file to appear"`
	// Origin explains how ProfileDir/ClusterID were chosen, for the error message
	// ("--profile-dir", "IPP_PROFILE_DIR", ...). Optional.
	Origin string
	// SessionKey is IPP_SESSION_KEY: the key when the connection info has none (the
	// info's own key wins, as in ipyparallel).
	SessionKey string
}

// Path is the connection file Load reads when no ConnectionInfo is given.
func (s Source) Path() string {
	if s.File != "" {
		return s.File
	}
	return profiles.ConnectionFile(s.ProfileDir, s.ClusterID, "engine")
}

// Load returns the engine connection information, waiting up to s.Wait for the file, and a
// description of where it came from (for logs and messages; it names IPP_SESSION_KEY when
// the key came from there). A file that exists but cannot be used is an error within
// badFileSettle, unless it changes meanwhile.
func (s Source) Load(ctx context.Context) (profiles.EngineInfo, string, error) {
	if s.File == "" && strings.TrimSpace(s.ConnectionInfo) != "" {
		info, hasKey, err := decodeInfo([]byte(s.ConnectionInfo), "IPP_CONNECTION_INFO")
		if err != nil {
			return info, "", err
		}
		return s.finish(info, hasKey, "IPP_CONNECTION_INFO")
	}
	path := s.Path()
	deadline := time.Now().Add(s.Wait)
	var lastErr error
	var badData []byte // the content of a file that exists but cannot be used
	var badSince time.Time
	for {
		data, err := os.ReadFile(path)
		if err == nil {
			info, hasKey, err := decodeInfo(data, path)
			if err == nil {
				return s.finish(info, hasKey, path)
			}
			if badData == nil || !bytes.Equal(data, badData) {
				badData, badSince = data, time.Now()
			} else if time.Since(badSince) >= badFileSettle {
				return info, "", err
			}
			lastErr = err
		} else {
			badData, lastErr = nil, err
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return profiles.EngineInfo{}, "", fmt.Errorf("waiting for %s: %w", path, ctx.Err())
		case <-time.After(min(filePoll, time.Until(deadline)+time.Millisecond)):
		}
	}
	if badData != nil {
		return profiles.EngineInfo{}, "", lastErr
	}
	return profiles.EngineInfo{}, "", s.notFound(path, lastErr)
}

// finish checks decoded info and fills in the key from IPP_SESSION_KEY if it has none.
func (s Source) finish(info profiles.EngineInfo, hasKey bool, where string) (profiles.EngineInfo, string, error) {
	if err := checkInfo(info, where, hasKey || s.SessionKey != ""); err != nil {
		return info, "", err
	}
	if info.Key == "" && s.SessionKey != "" {
		info.Key = s.SessionKey
		where += " (key from IPP_SESSION_KEY)"
	}
	return info, where, nil
}

// notFound says exactly what was looked for, so that a user can see which profile,
// cluster id or file the engine expected.
func (s Source) notFound(path string, err error) error {
	var b strings.Builder
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(&b, "%s does not exist", path)
	} else {
		fmt.Fprintf(&b, "cannot read %s: %v", path, err)
	}
	fmt.Fprintf(&b, " (waited %s)", s.Wait)
	if s.File == "" {
		fmt.Fprintf(&b, "; looked in profile %s with cluster id %q", s.ProfileDir, s.ClusterID)
		if s.Origin != "" {
			fmt.Fprintf(&b, " (%s)", s.Origin)
		}
	}
	b.WriteString("; IPP_CONNECTION_INFO is not set. Is the controller running with the same profile and cluster id?" +
		" Pass --file=PATH, --profile-dir/--cluster-id, or raise --wait-for-url-file")
	return fmt.Errorf("%w: %s", ErrNoConnectionInfo, b.String())
}

// checkInfo checks that info has what an engine needs (haveKey: a key, from the info or
// IPP_SESSION_KEY).
func checkInfo(info profiles.EngineInfo, where string, haveKey bool) error {
	var missing []string
	if info.Interface == "" {
		missing = append(missing, "interface")
	}
	for _, p := range []struct {
		name string
		port int
	}{{"registration", info.Registration}, {"control", info.Control}, {"mux", info.Mux}, {"task", info.Task},
		{"iopub", info.IOPub}, {"hb_ping", info.HBPing}, {"hb_pong", info.HBPong}} {
		if p.port <= 0 {
			missing = append(missing, p.name)
		}
	}
	if len(info.Broadcast) == 0 {
		missing = append(missing, "broadcast")
	}
	if !haveKey {
		missing = append(missing, "key")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s is not an engine connection file: missing %s", ErrBadConnectionInfo, where, strings.Join(missing, ", "))
	}
	if curveServerKey(info) != "" && !transport.CurveSupported() {
		return fmt.Errorf("%s asks for CurveZMQ encryption (curve_serverkey): %w", where, transport.ErrCurveUnsupported)
	}
	if info.Pack != "" && info.Pack != "json" {
		return fmt.Errorf("%s: packer %q is not supported (json only)", where, info.Pack)
	}
	return nil
}

// curveServerKey is the controller's CurveZMQ public key, or "" when it does not encrypt.
func curveServerKey(info profiles.EngineInfo) string {
	if info.CurveServerKey == nil {
		return ""
	}
	return *info.CurveServerKey
}

// endpoints are the controller addresses an engine connects to.
type endpoints struct {
	registration, control, mux, task, iopub, hbPing, hbPong string
	broadcast                                               []string
}

// resolve builds the endpoints from the connection info. Like ipyparallel's
// disambiguate_url, a wildcard interface (0.0.0.0, *) means the controller's location, or
// this host when the location is this host.
func resolve(info profiles.EngineInfo, location string) endpoints {
	if location == "" {
		location = info.Location
	}
	transport, host, ok := strings.Cut(info.Interface, "://")
	if !ok {
		transport, host = "tcp", info.Interface
	}
	if host == "*" || host == "0.0.0.0" {
		host = connectableHost(location)
	}
	url := func(port int) string { return fmt.Sprintf("%s://%s:%d", transport, host, port) }
	e := endpoints{
		registration: url(info.Registration), control: url(info.Control), mux: url(info.Mux), task: url(info.Task),
		iopub: url(info.IOPub), hbPing: url(info.HBPing), hbPong: url(info.HBPong),
	}
	for _, p := range info.Broadcast {
		e.broadcast = append(e.broadcast, url(p))
	}
	return e
}

// connectableHost turns the controller's location into an address to connect to: loopback
// when the controller runs here, else the location itself.
func connectableHost(location string) string {
	if location == "" || isLocal(location) {
		return "127.0.0.1"
	}
	return location
}

func isLocal(location string) bool {
	if h, err := os.Hostname(); err == nil && strings.EqualFold(h, location) {
		return true
	}
	ip := net.ParseIP(location)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}
