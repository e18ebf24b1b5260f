// Package controller is a Go ipcontroller: the Hub (registration, heartbeats, queries, task
// records) and the schedulers (direct, control, iopub, load-balanced tasks, broadcast) of
// ipyparallel, in one process and one event loop, speaking the wire protocol that the real
// Python Client and engines expect.
package controller

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"ipcluster/profiles"
	"ipcluster/runtime/wire"
)

// Config is everything the controller needs; zero values take ipyparallel's defaults.
type Config struct {
	ProfileDir string // required: where security/ and log/ live
	ClusterID  string

	IP        string // bind address; default 127.0.0.1
	Transport string // default tcp
	Location  string // written into the files; default the host name
	Ports     []int  // pool of ports to bind before random ones
	SSH       string // "ssh" of the client file
	EngineSSH string // "ssh" of the engine file

	Key             string // HMAC key; default a new random one
	Unsigned        bool   // no key at all: messages are not signed (insecure; --no-secure)
	SignatureScheme string // default hmac-sha256

	Scheme         string        // task scheme: leastload (default), lru, plainrandom, twobin, weighted, pure, none
	HWM            int           // outstanding tasks per engine; default 1, 0 = unlimited (use HWMSet)
	HWMSet         bool          // HWM was given explicitly (so 0 means unlimited)
	Ping           time.Duration // heartbeat period; default 3 s
	MaxMisses      int           // missed beats before an engine is dropped; default 10
	BroadcastDepth int           // default 1 (2 leaves)

	Reuse bool // reuse existing connection files (key and ports) and keep them on exit
	NoDB  bool // do not store task records

	RecordLimit    int           // task records kept; default 1024
	SizeLimit      int64         // buffer bytes kept; default 1 GiB
	StrandedGrace  time.Duration // wait before failing tasks of a dead engine; default 1 s
	ShutdownLinger time.Duration // delay between shutdown_reply and exit (as ipyparallel: 1 s, so engines' last messages arrive)

	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.ProfileDir == "" {
		return fmt.Errorf("controller: no profile directory")
	}
	if c.IP == "" {
		c.IP = "127.0.0.1"
	}
	if c.Transport == "" {
		c.Transport = "tcp"
	}
	if c.Location == "" {
		c.Location, _ = os.Hostname()
	}
	if c.Key == "" && !c.Unsigned {
		c.Key = wire.NewID()
	}
	if c.SignatureScheme == "" {
		c.SignatureScheme = wire.DefaultScheme
	}
	if c.Scheme == "" {
		c.Scheme = "leastload"
	}
	if _, ok := schemes[c.Scheme]; !ok && c.Scheme != "pure" && c.Scheme != "none" {
		return fmt.Errorf("unknown task scheme %q (choose leastload, lru, plainrandom, twobin, weighted, pure or none)", c.Scheme)
	}
	if !c.HWMSet && c.HWM == 0 {
		c.HWM = 1
	}
	if c.Ping <= 0 {
		c.Ping = 3 * time.Second
	}
	if c.MaxMisses <= 0 {
		c.MaxMisses = 10
	}
	if c.BroadcastDepth <= 0 {
		c.BroadcastDepth = 1
	}
	if c.RecordLimit <= 0 {
		c.RecordLimit = 1024
	}
	if c.SizeLimit <= 0 {
		c.SizeLimit = 1 << 30
	}
	if c.StrandedGrace <= 0 {
		c.StrandedGrace = time.Second
	}
	if c.ShutdownLinger <= 0 {
		c.ShutdownLinger = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// registrationTimeout is how long a registration may wait for its first heartbeat.
func (c *Config) registrationTimeout() time.Duration {
	return max(30*time.Second, 10*c.Ping)
}

func (c *Config) clientFile() string {
	return profiles.ConnectionFile(c.ProfileDir, c.ClusterID, "client")
}

func (c *Config) engineFile() string {
	return profiles.ConnectionFile(c.ProfileDir, c.ClusterID, "engine")
}
