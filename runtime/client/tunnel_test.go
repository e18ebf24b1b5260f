package client_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/sshtest"
	"ipcluster/profiles"
	"ipcluster/runtime/client"
	"ipcluster/runtime/client/clienttest"
)

// sshHome makes a home directory whose ~/.ssh/config is cfg and points HOME at it for the
// test and the processes it starts: the engines and clients find the sshd alias there, as
// a user's would.
func sshHome(t *testing.T, cfg string) {
	home := t.TempDir()
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "config"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
}

// TestTunnelledEngines: a controller bound to 127.0.0.1 writes --enginessh into the engine
// file; two Go engines tunnel every connection through the sshd (one SSH connection each),
// run commands, and keep running them after the sshd restarts and drops their connections.
// Go clients tunnel too: with the client file's ssh when the controller's location is
// another machine, and with an explicit server.
func TestTunnelledEngines(t *testing.T) {
	if _, err := clienttest.Executable("ipengine"); err != nil {
		t.Skip(err)
	}
	s := sshtest.Start(t)
	sshd := s.StartPrivate(t, "ipp-tunnel", "LogLevel DEBUG1") // DEBUG1 logs every direct-tcpip channel
	sshHome(t, sshd.ConfigFile)
	ctx := testContext(t)
	cl := newCluster(t)
	// 40 misses of 500 ms: the controller keeps the engines through the sshd restart.
	if _, err := cl.StartController(ctx, clienttest.Go, "--ping=500", "--HeartMonitor.max_heartmonitor_misses=40",
		"--enginessh="+sshd.Alias, "--ssh="+sshd.Alias); err != nil {
		t.Fatal(err)
	}
	var engineInfo profiles.EngineInfo
	if err := profiles.ReadJSON(profiles.ConnectionFile(cl.ProfileDir, cl.ClusterID, "engine"), &engineInfo); err != nil ||
		engineInfo.SSH != sshd.Alias || !strings.HasPrefix(engineInfo.Interface, "tcp://127.0.0.1") {
		t.Fatalf("engine file: ssh %q interface %q, %v", engineInfo.SSH, engineInfo.Interface, err)
	}
	// 5 heartbeat checks of 1 s (ping + 0.5 s): the engines leave 5 s after the sshd is gone.
	engines, err := cl.StartEngines(clienttest.Go, 2, "--max-heartbeat-misses=5")
	if err != nil {
		t.Fatal(err)
	}
	// This client runs beside the controller: as in ipyparallel, it ignores the file's ssh.
	c := connect(t, ctx, cl)
	ids := waitForEngines(t, ctx, c, cl, 2)
	run := func(c *client.Client, code, want string) error {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		results, err := c.Execute(rctx, ids, code)
		if err != nil {
			return err
		}
		for i, r := range results {
			if r.Stdout != want || r.EngineID != ids[i] {
				t.Errorf("engine %d: %+v", ids[i], r)
			}
		}
		return nil
	}
	if err := run(c, "echo $IPP_ENGINE_ID-ok | cut -d- -f2", "ok\n"); err != nil {
		t.Fatal(err)
	}
	log := sshd.Log()
	if n := strings.Count(log, "Accepted publickey"); n != 2 {
		t.Errorf("%d SSH logins for 2 engines, want one connection each", n)
	}
	if n := strings.Count(log, "server_request_direct_tcpip"); n < 2*7 {
		t.Errorf("sshd log shows %d forwarded channels, want at least 7 per engine:\n%s", n, log)
	}

	// Every SSH connection drops; the engines dial again when their sockets reconnect.
	before := len(sshd.Log())
	sshd.Restart(t)
	restarted := time.Now()
	err = clienttest.WaitUntil(ctx, 200*time.Millisecond, "commands to run again after the sshd restart", func() (bool, error) {
		if err := cl.CheckAlive(); err != nil {
			return false, err
		}
		return run(c, "echo again", "again\n") == nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("commands ran again %s after the sshd restart", time.Since(restarted).Round(time.Millisecond))
	if n := strings.Count(sshd.Log()[before:], "Accepted publickey"); n != 2 {
		t.Errorf("%d SSH logins after the restart, want 2 (each engine once)", n)
	}
	if again := waitForEngines(t, ctx, c, cl, 2); again[0] != ids[0] || again[1] != ids[1] {
		t.Errorf("engine ids %v after the restart, were %v", again, ids)
	}

	// A client on "another machine": the file's location is not this host, so the client
	// takes the file's ssh and reaches 127.0.0.1 as the sshd sees it.
	var info profiles.ClientInfo
	if err := profiles.ReadJSON(cl.ClientFile(), &info); err != nil {
		t.Fatal(err)
	}
	info.Location = "192.0.2.1" // TEST-NET-1: never this machine
	before = len(sshd.Log())
	far, err := client.Connect(ctx, client.Options{Info: &info})
	if err != nil {
		t.Fatal(err)
	}
	defer far.Close()
	if err := run(far, "echo far", "far\n"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(sshd.Log()[before:], "Accepted publickey"); n != 1 {
		t.Errorf("the client from the file's ssh made %d SSH logins, want 1", n)
	}
	far.Close()

	// An explicit server, as ipcluster px --ssh gives it.
	before = len(sshd.Log())
	explicit, err := client.Connect(ctx, client.Options{ProfileDir: cl.ProfileDir, ClusterID: cl.ClusterID, SSHServer: sshd.Alias})
	if err != nil {
		t.Fatal(err)
	}
	defer explicit.Close()
	if err := run(explicit, "echo explicit", "explicit\n"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(sshd.Log()[before:], "Accepted publickey"); n != 1 {
		t.Errorf("the client with SSHServer made %d SSH logins, want 1", n)
	}
	explicit.Close()

	// The sshd stays away: the engines leave after their heartbeat bound, saying that the
	// controller address they lost is a tunnel through it.
	sshd.Kill()
	killed := time.Now()
	if err := clienttest.WaitUntil(ctx, 100*time.Millisecond, "the engines to leave", func() (bool, error) {
		return engines[0].Exited() && engines[1].Exited(), nil
	}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(killed); took > 15*time.Second {
		t.Errorf("the engines left %s after the sshd died, want about 5 s", took)
	}
	t.Logf("engines left %s after the sshd died; engine 0: %s", time.Since(killed).Round(time.Millisecond), engines[0].Tail(1))
	for _, e := range engines {
		if tail := e.Tail(3); !strings.Contains(tail, "no heartbeat") || !strings.Contains(tail, "ssh tunnel through "+sshd.Alias) {
			t.Errorf("engine's last words do not name the lost heartbeat and the tunnel:\n%s", tail)
		}
	}
}

// TestTunnelRefused: an sshd that does not forward stops a Go engine at once, in one line
// naming forwarding, and a Go client's Connect fails the same way.
func TestTunnelRefused(t *testing.T) {
	if _, err := clienttest.Executable("ipengine"); err != nil {
		t.Skip(err)
	}
	s := sshtest.Start(t)
	sshd := s.StartPrivate(t, "ipp-noforward", "AllowTcpForwarding no")
	sshHome(t, sshd.ConfigFile)
	ctx := testContext(t)
	cl := newCluster(t)
	if _, err := cl.StartController(ctx, clienttest.Go, "--ping=500", "--enginessh="+sshd.Alias); err != nil {
		t.Fatal(err)
	}
	engines, err := cl.StartEngines(clienttest.Go, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := clienttest.WaitUntil(ctx, 50*time.Millisecond, "the engine to exit", func() (bool, error) {
		return engines[0].Exited(), nil
	}); err != nil {
		t.Fatal(err)
	}
	var last string
	for _, line := range strings.Split(strings.TrimSpace(engines[0].Tail(5)), "\n") {
		if strings.HasPrefix(line, "ipengine: ") {
			last = line
		}
	}
	if !strings.Contains(last, "forwarding") || !strings.Contains(last, "AllowTcpForwarding") {
		t.Errorf("the engine's last word %q does not name forwarding; log:\n%s", last, engines[0].Tail(20))
	}
	_, err = client.Connect(ctx, client.Options{ProfileDir: cl.ProfileDir, ClusterID: cl.ClusterID, SSHServer: sshd.Alias})
	if err == nil || !strings.Contains(err.Error(), "AllowTcpForwarding") || strings.Contains(err.Error(), "\n") {
		t.Errorf("client: want one line naming forwarding, got %v", err)
	}
}
