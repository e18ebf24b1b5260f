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
//
// The tagged fields are the controller's options under ipyparallel's class and trait names
// (c.HeartMonitor.period, c.TaskScheduler.hwm, ...): Configure reads them from the command
// line, the profile's ipcontroller_config.py/.json and the environment, and `--help` and
// `ipcluster profile create` describe them from these declarations.
type Config struct {
	ProfileDir string // required: where security/ and log/ live
	ClusterID  string `config:"cluster_id" class:"BaseParallelApplication" help:"cluster id, part of the connection file names (may be empty)"`

	IP              string   `config:"ip" class:"IPController" help:"address to bind for engines and clients ('*' for all interfaces)"`
	EngineIP        string   `config:"engine_ip" class:"IPController" help:"address for engines; this controller binds one address, so this one wins over ip"`
	ClientIP        string   `config:"client_ip" class:"IPController" help:"address for clients; used when engine_ip is not set (one address is bound)"`
	Transport       string   `config:"transport" class:"IPController" help:"ZeroMQ transport: tcp or ipc (ipc: unix-domain socket files '<ip>:<n>'; an ip without '/' means a new private directory)"`
	EngineTransport string   `config:"engine_transport" class:"IPController" help:"transport for engines; this controller binds one transport, so this one wins over transport"`
	ClientTransport string   `config:"client_transport" class:"IPController" help:"transport for clients; used when engine_transport is not set (one transport is bound)"`
	Location        string   `config:"location" class:"IPController" help:"host name or address written into the connection files (default: this host's name)"`
	Ports           PortList `config:"ports" class:"IPController" type:"list of int" help:"ports to bind first, as a list or a range such as '10101-10120' (random ports after)"`
	RegPort         int      `config:"regport" class:"IPController" help:"registration port (old form; it goes first in ports)"`
	SSH             string   `config:"ssh_server" class:"IPController" help:"ssh server for clients, written into the client file ([user@]host[:port])"`
	EngineSSH       string   `config:"engine_ssh_server" class:"IPController" help:"ssh server for engines, written into the engine file"`

	EnableCurve    bool   `config:"enable_curve" class:"IPController" help:"encrypt and authenticate every connection with CurveZMQ (libzmq build only; also IPP_ENABLE_CURVE=1); the HMAC key is then empty unless one is set"`
	CurveSecretKey string `config:"curve_secretkey" class:"IPController" help:"the controller's CurveZMQ secret key, Z85 (also IPP_CURVE_SECRETKEY; default: a new key pair)"`
	CurvePublicKey string `config:"curve_publickey" class:"IPController" help:"the controller's CurveZMQ public key, Z85, written as curve_serverkey into the connection files (also IPP_CURVE_PUBLICKEY)"`

	Key             string // HMAC key; default a new random one (c.Session.key, see sessionSettings)
	Unsigned        bool   // no key at all: messages are not signed (insecure; --no-secure)
	SignatureScheme string `config:"signature_scheme" class:"Session" help:"message signature scheme"`

	Scheme         string        `config:"scheme_name" class:"TaskScheduler" help:"task scheme: leastload, lru, plainrandom, twobin, weighted, pure or none"`
	HWM            int           `config:"hwm" class:"TaskScheduler" help:"tasks outstanding per engine (0 = unlimited)"`
	HWMSet         bool          // HWM was given explicitly (so 0 means unlimited)
	Ping           time.Duration `config:"period" class:"HeartMonitor" unit:"ms" help:"heartbeat period in milliseconds"`
	MaxMisses      int           `config:"max_heartmonitor_misses" class:"HeartMonitor" help:"missed heartbeats before an engine is dropped"`
	BroadcastDepth int           `config:"broadcast_scheduler_depth" class:"IPController" help:"depth of the broadcast scheduler tree (1-6)"`

	// High-water marks (libzmq's, in messages per connection) that bound what a client that
	// stops reading can make the controller hold; see queueLimits in controller.go.
	SendHWM     int  `config:"send_hwm" class:"IPController" help:"messages queued per connection on the registration/query, notification, iopub and heartbeat-ping sockets before further ones to that peer are dropped (0 = unlimited)"`
	RecvHWM     int  `config:"recv_hwm" class:"IPController" help:"messages received per connection and not yet handled before the controller stops reading that connection (TCP back-pressure; nothing is lost; 0 = unlimited)"`
	QueueHWMSet bool // SendHWM and RecvHWM were given explicitly (so 0 means unlimited)

	Reuse   bool   `config:"reuse_files" class:"IPController" help:"reuse existing connection files (same key and ports) and keep them on exit"`
	Restore bool   `config:"restore_engines" class:"IPController" help:"reload the engine table of log/engines<cluster_id>.json (engines keep their ids while their heartbeats arrive); implies reuse_files"`
	DBClass string `config:"db_class" class:"IPController" help:"task record store: DictDB (in memory), SQLiteDB (a file that outlives the controller) or NoDB (none)"`
	NoDB    bool   // do not store task records (DBClass NoDB)
	SQLite  bool   // keep task records in an SQLite file (DBClass SQLiteDB)

	SQLiteFile     string `config:"filename" class:"SQLiteDB" help:"file name of the SQLite task database (default tasks.db)"`
	SQLiteLocation string `config:"location" class:"SQLiteDB" help:"directory of the SQLite task database (default: the profile directory)"`
	SQLiteTable    string `config:"table" class:"SQLiteDB" help:"table of the SQLite task database; records of earlier controllers in it are served (default ipython-tasks)"`

	RecordLimit    int           `config:"record_limit" class:"DictDB" help:"task records kept"`
	SizeLimit      int64         `config:"size_limit" class:"DictDB" help:"bytes of task buffers kept"`
	StrandedGrace  time.Duration // wait before failing tasks of a dead engine; default 1 s
	ShutdownLinger time.Duration // delay between shutdown_reply and exit (as ipyparallel: 1 s, so engines' last messages arrive)

	Logger *slog.Logger
}

// DefaultConfig is a Config holding the defaults that setDefaults applies, as the options
// are documented (the key, the location and the logger are chosen when the controller
// starts).
func DefaultConfig() Config {
	return Config{
		IP: "127.0.0.1", Transport: "tcp", SignatureScheme: wire.DefaultScheme, Scheme: "leastload",
		HWM: 1, Ping: 3 * time.Second, MaxMisses: 10, BroadcastDepth: 1, DBClass: "DictDB",
		RecordLimit: 1024, SizeLimit: 1 << 30, SendHWM: 10000, RecvHWM: 1000,
	}
}

func (c *Config) setDefaults() error {
	if c.ProfileDir == "" {
		return fmt.Errorf("controller: no profile directory")
	}
	d := DefaultConfig()
	orDefault(&c.IP, d.IP)
	orDefault(&c.Transport, d.Transport)
	if c.Location == "" {
		c.Location, _ = os.Hostname()
	}
	if c.EnableCurve {
		if err := c.setCurveKeys(); err != nil {
			return err
		}
	}
	if c.Key == "" && !c.Unsigned && !c.EnableCurve { // with CURVE, as ipyparallel 9: no key unless one is set
		c.Key = wire.NewID()
	}
	orDefault(&c.SignatureScheme, d.SignatureScheme)
	orDefault(&c.Scheme, d.Scheme)
	if _, ok := schemes[c.Scheme]; !ok && c.Scheme != "pure" && c.Scheme != "none" {
		return fmt.Errorf("unknown task scheme %q (choose leastload, lru, plainrandom, twobin, weighted, pure or none)", c.Scheme)
	}
	if !c.HWMSet && c.HWM == 0 {
		c.HWM = d.HWM
	}
	if !c.QueueHWMSet {
		orDefault(&c.SendHWM, d.SendHWM)
		orDefault(&c.RecvHWM, d.RecvHWM)
	}
	orDefault(&c.Ping, d.Ping)
	orDefault(&c.MaxMisses, d.MaxMisses)
	orDefault(&c.BroadcastDepth, d.BroadcastDepth)
	orDefault(&c.RecordLimit, d.RecordLimit)
	orDefault(&c.SizeLimit, d.SizeLimit)
	orDefault(&c.StrandedGrace, time.Second)
	orDefault(&c.ShutdownLinger, time.Second)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// orDefault sets *v to def when *v is zero (or, for numbers, negative).
func orDefault[T string | int | int64 | time.Duration](v *T, def T) {
	var zero T
	if *v == zero || *v < zero {
		*v = def
	}
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
