package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"ipcluster/cluster"
	"ipcluster/dashboard"
	"ipcluster/launchers"
	"ipcluster/profiles"
)

// dashboardPort is the first port `ipcluster dashboard` tries without --port; the next
// ones are tried while busy (many users share a login node), as Jupyter does.
const (
	dashboardPort      = 8650
	dashboardPortTries = 50
)

// viewFlags are the flags of the dashboard and of top: which cluster, and how to judge it.
func viewFlags() []cli.Flag {
	return append(profileFlags(),
		&cli.DurationFlag{Name: "refresh", Value: time.Second, Usage: "how often to ask the controller"},
		&cli.DurationFlag{Name: "lost-after", Value: 6 * time.Second, Usage: "show an engine lost when it has not answered for `D`"},
	)
}

func dashboardCommand() *cli.Command {
	return &cli.Command{
		Name:  "dashboard",
		Usage: "serve a live web page of a cluster: engines, batch jobs, task flow, failures",
		Description: "Prints the address to open, with a token that every request needs. It listens on 127.0.0.1\n" +
			"unless --ip says otherwise; from a laptop, forward the port through ssh (the line it prints).\n" +
			"The same data is JSON at /api/cluster (send the token as ?token=, or the header\n" +
			dashboard.TokenHeader + "). Actions (stop the cluster, ...) ask for confirmation; --read-only\n" +
			"turns them off. Ctrl-C stops the dashboard, never the cluster.",
		Flags: append(viewFlags(),
			&cli.StringFlag{Name: "ip", Value: "127.0.0.1", Usage: "address to listen on"},
			&cli.IntFlag{Name: "port", Value: dashboardPort, Usage: fmt.Sprintf("port to listen on (0: any free one; without --port the next %d are tried while busy)", dashboardPortTries)},
			&cli.BoolFlag{Name: "read-only", Usage: "show only: refuse every action"},
		),
		Action: runDashboard,
	}
}

func runDashboard(c *cli.Context) error {
	cfg, err := viewConfig(c)
	if err != nil {
		return err
	}
	cfg.ReadOnly = c.Bool("read-only")
	cfg.Actions = dashboardActions(cfg.ProfileDir, cfg.ClusterID)
	col := dashboard.NewCollector(cfg)
	srv, err := listenDashboard(col, c.String("ip"), c.Int("port"), c.IsSet("port"))
	if err != nil {
		return err
	}
	fmt.Printf("dashboard: %s\n", dashboardURL(srv, c.String("ip")))
	if hint := sshHint(srv, c.String("ip")); hint != "" {
		fmt.Println(hint)
	}
	ctx, stop := signalContext()
	defer stop()
	go col.Run(ctx)
	if err := srv.Serve(ctx); err != nil {
		return err
	}
	return cli.Exit("dashboard stopped; the cluster keeps running", 130)
}

// viewConfig is what the dashboard and top watch: the chosen cluster, which must exist.
func viewConfig(c *cli.Context) (dashboard.Config, error) {
	dir, id := profileDir(c), c.String("cluster-id")
	_, ferr := os.Stat(cluster.FilePath(dir, id))
	_, cerr := os.Stat(profiles.ConnectionFile(dir, id, "client"))
	if ferr != nil && cerr != nil {
		return dashboard.Config{}, fmt.Errorf("%w: no cluster %s in %s (no cluster file, no connection file); start one with `ipcluster start`, or choose it with --profile and --cluster-id",
			cluster.ErrNotRunning, orDash(id), dir)
	}
	if c.Duration("refresh") <= 0 || c.Duration("lost-after") <= 0 {
		return dashboard.Config{}, errors.New("--refresh and --lost-after must be positive durations (e.g. 1s)")
	}
	return dashboard.Config{ProfileDir: dir, ClusterID: id, Registry: launchers.Builtin(), Logger: logger(c),
		Refresh: c.Duration("refresh"), LostAfter: c.Duration("lost-after")}, nil
}

// dashboardActions are the page's actions, each the library call of the CLI command that
// does the same.
func dashboardActions(dir, id string) dashboard.Actions {
	return dashboard.Actions{
		// ipcluster stop --cluster-id=ID
		StopCluster: func(ctx context.Context) error {
			f, err := cluster.ReadFile(cluster.FilePath(dir, id))
			if err != nil {
				return fmt.Errorf("stop: %w", err)
			}
			return cluster.StopFile(ctx, f, launchers.Builtin())
		},
	}
}

// listenDashboard binds the port asked for, or without --port the first free one from the
// default on.
func listenDashboard(col *dashboard.Collector, ip string, port int, portSet bool) (*dashboard.Server, error) {
	tries := 1
	if !portSet {
		tries = dashboardPortTries
	}
	var err error
	for i := range tries {
		var srv *dashboard.Server
		if srv, err = dashboard.Listen(col, net.JoinHostPort(ip, strconv.Itoa(port+i))); err == nil {
			return srv, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	return nil, fmt.Errorf("%w (choose another with --port, or --port 0 for any free one)", err)
}

// dashboardURL is the address to open; when listening on every interface, by host name.
func dashboardURL(srv *dashboard.Server, ip string) string {
	u := srv.URL()
	if addr := net.ParseIP(ip); addr != nil && addr.IsUnspecified() {
		host, _ := os.Hostname()
		u = fmt.Sprintf("http://%s/?token=%s", net.JoinHostPort(host, strconv.Itoa(srv.Port())), srv.Token())
	}
	return u
}

// sshHint tells a user logged in over ssh (SSH_CONNECTION is set) how to reach a dashboard
// bound to this host's loopback from their laptop.
func sshHint(srv *dashboard.Server, ip string) string {
	if os.Getenv("SSH_CONNECTION") == "" {
		return ""
	}
	if addr := net.ParseIP(ip); addr == nil || !addr.IsLoopback() {
		return ""
	}
	host, _ := os.Hostname()
	if u, err := user.Current(); err == nil {
		host = u.Username + "@" + host
	}
	port := strconv.Itoa(srv.Port())
	return fmt.Sprintf("dashboard: from your laptop: ssh -N -L %s:%s %s  then open http://localhost:%s/?token=%s",
		port, net.JoinHostPort(ip, port), host, port, srv.Token())
}
