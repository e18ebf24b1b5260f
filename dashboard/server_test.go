package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ipcluster/cluster"
	"ipcluster/internal/testutil"
)

// serve runs a dashboard over a fake controller until the test ends.
func serve(t *testing.T, readOnly bool, actions Actions, src *fakeSource) (*Server, *Collector) {
	t.Helper()
	return serveConfig(t, Config{ReadOnly: readOnly, Actions: actions,
		connect: func(context.Context) (controllerSource, error) { return src, nil }})
}

func serveWith(t *testing.T, connect func(context.Context) (controllerSource, error)) (*Server, *Collector) {
	t.Helper()
	return serveConfig(t, Config{connect: connect})
}

func serveConfig(t *testing.T, cfg Config) (*Server, *Collector) {
	t.Helper()
	cfg.ProfileDir, cfg.Refresh, cfg.LauncherRefresh, cfg.LostAfter = t.TempDir(), 20*time.Millisecond, 50*time.Millisecond, 300*time.Millisecond
	col := NewCollector(cfg)
	srv, err := Listen(col, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { col.Run(ctx); done <- struct{}{} }()
	go func() { srv.Serve(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return srv, col
}

func base(s *Server) string { return strings.TrimSuffix(s.URL(), "/?token="+s.Token()) }

func status(t *testing.T, c *http.Client, method, url string, header map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader("{}"))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode
}

func TestEveryRequestNeedsTheToken(t *testing.T) {
	var stops atomic.Int32
	srv, _ := serve(t, false, Actions{StopCluster: func(context.Context) error { stops.Add(1); return nil }}, newFakeSource(engineReport{ID: 0}))
	b := base(srv)
	plain := &http.Client{Timeout: 5 * time.Second}
	for _, p := range []string{"/", "/?token=wrong", "/?token=", "/static/app.js", "/static/style.css", "/static/", "/api/cluster", "/api/events", "/nothing"} {
		if code := status(t, plain, "GET", b+p, nil); code != http.StatusForbidden {
			t.Errorf("GET %s without the token: %d, want 403", p, code)
		}
	}
	if code := status(t, plain, "POST", b+"/api/actions/stop-cluster", nil); code != http.StatusForbidden {
		t.Errorf("POST an action without the token: %d, want 403", code)
	}
	if code := status(t, plain, "GET", b+"/api/cluster", map[string]string{"Authorization": "token " + strings.Repeat("0", 48)}); code != http.StatusForbidden {
		t.Errorf("a wrong token in the header: %d", code)
	}

	// The tokened URL opens the page and leaves a cookie, which then opens the rest.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	if code := status(t, browser, "GET", srv.URL(), nil); code != http.StatusOK {
		t.Fatalf("GET %s: %d", srv.URL(), code)
	}
	for _, p := range []string{"/static/app.js", "/static/style.css", "/api/cluster"} {
		if code := status(t, browser, "GET", b+p, nil); code != http.StatusOK {
			t.Errorf("GET %s with the cookie: %d", p, code)
		}
	}
	// The cookie alone, which any site could make the browser send, does not run an action.
	if code := status(t, browser, "POST", b+"/api/actions/stop-cluster", nil); code != http.StatusForbidden || stops.Load() != 0 {
		t.Errorf("action with the cookie only: %d, %d stops", code, stops.Load())
	}
	hdr := map[string]string{TokenHeader: srv.Token(), "Content-Type": "application/json"}
	if code := status(t, plain, "POST", b+"/api/actions/stop-cluster", hdr); code != http.StatusOK || stops.Load() != 1 {
		t.Errorf("action with the token header: %d, %d stops", code, stops.Load())
	}
	if code := status(t, plain, "POST", b+"/api/actions/scale", hdr); code != http.StatusNotFound {
		t.Errorf("an action not offered: %d, want 404", code)
	}
}

func TestReadOnlyRefusesActions(t *testing.T) {
	var stops atomic.Int32
	srv, _ := serve(t, true, Actions{StopCluster: func(context.Context) error { stops.Add(1); return nil }}, newFakeSource(engineReport{ID: 0}))
	hdr := map[string]string{TokenHeader: srv.Token()}
	c := &http.Client{Timeout: 5 * time.Second}
	if code := status(t, c, "POST", base(srv)+"/api/actions/stop-cluster", hdr); code != http.StatusForbidden || stops.Load() != 0 {
		t.Errorf("read-only: action answered %d, ran %d times", code, stops.Load())
	}
	resp, err := c.Get(srv.URL()[:strings.Index(srv.URL(), "/?")] + "/api/cluster?token=" + srv.Token())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v View
	json.NewDecoder(resp.Body).Decode(&v)
	if !v.ReadOnly || len(v.Actions) != 0 {
		t.Errorf("read-only view offers %v (read_only %v)", v.Actions, v.ReadOnly)
	}
}

// The event stream shows a killed engine lost without anyone asking again.
func TestEventStreamShowsLostEngine(t *testing.T) {
	src := newFakeSource(engineReport{ID: 0}, engineReport{ID: 1})
	srv, _ := serve(t, false, Actions{}, src)
	resp, err := http.Get(base(srv) + "/api/events?token=" + srv.Token())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	views := make(chan View, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var v View
				if json.Unmarshal([]byte(data), &v) == nil {
					views <- v
				}
			}
		}
		close(views)
	}()
	state := func(want string) func() bool {
		return func() bool {
			for {
				select {
				case v, ok := <-views:
					if !ok {
						return false
					}
					if len(v.Engines) == 2 && v.Engines[1].State == want {
						return true
					}
				default:
					return false
				}
			}
		}
	}
	testutil.Eventually(t, 5*time.Second, "engine 1 idle in the stream", state(Idle))
	src.kill(1)
	testutil.Eventually(t, 5*time.Second, "engine 1 lost in the stream", state(Lost))
}

// A controller that announces its shutdown was stopped on purpose: its engines, and those that
// left just before, are shown stopped, not lost.
func TestControllerShutdownStopsEngines(t *testing.T) {
	src := newFakeSource(engineReport{ID: 0}, engineReport{ID: 1})
	first := true
	_, col := serveWith(t, func(context.Context) (controllerSource, error) {
		if first {
			first = false
			return src, nil
		}
		return nil, errors.New("no controller")
	})
	testutil.Eventually(t, 5*time.Second, "2 engines", func() bool { return len(col.View().Engines) == 2 })
	// `ipcluster stop` stops the engines first: 1 leaves, and looks lost for now.
	src.set(engineReport{ID: 0})
	testutil.Eventually(t, 5*time.Second, "engine 1 gone", func() bool { return col.View().Engines[1].State == Lost })
	src.shutdown()
	testutil.Eventually(t, 5*time.Second, "both engines stopped", func() bool {
		v := col.View()
		return len(v.Engines) == 2 && v.Engines[0].State == Stopped && v.Engines[1].State == Stopped && !v.Controller.Connected
	})
}

// `ipcluster stop` removes the cluster file once everything is stopped: engines the dashboard
// still had (the stopped controller could not tell it they went) are shown stopped.
func TestClusterFileGoneStopsEngines(t *testing.T) {
	dir := t.TempDir()
	file := cluster.FilePath(dir, "")
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(`{"cluster": {"cluster_id": "", "profile_dir": "`+dir+`"}, "engines": {"class": "local", "sets": {}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	src := newFakeSource(engineReport{ID: 0})
	col := NewCollector(Config{ProfileDir: dir, Refresh: 20 * time.Millisecond, LauncherRefresh: 50 * time.Millisecond, LostAfter: 300 * time.Millisecond,
		connect: func(context.Context) (controllerSource, error) { return src, nil }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { col.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	testutil.Eventually(t, 5*time.Second, "the cluster read", func() bool { v := col.View(); return v.Cluster != nil && len(v.Engines) == 1 })
	src.kill(0) // the engine and the controller stop; the controller no longer answers
	os.Remove(file)
	testutil.Eventually(t, 5*time.Second, "engine 0 stopped", func() bool {
		v := col.View()
		return v.Cluster == nil && len(v.Engines) == 1 && v.Engines[0].State == Stopped
	})
}
