package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ipcluster/dashboard"
)

// runningDashboard is an `ipcluster dashboard` started by a test.
type runningDashboard struct {
	url   string // as printed, with the token
	base  string // scheme://host:port
	token string
	lines []string // what it printed before the URL line, and that line
	more  <-chan string
}

// nextLine is the next line the dashboard prints, "" if none comes within d.
func (d *runningDashboard) nextLine(wait time.Duration) string {
	select {
	case l := <-d.more:
		return l
	case <-time.After(wait):
		return ""
	}
}

// startDashboard runs `ipcluster dashboard --port 0 args...` until the test ends (then
// SIGINT, as a user's Ctrl-C) and returns the address it printed.
func startDashboard(t *testing.T, e *env, args ...string) *runningDashboard {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "ipcluster"), append([]string{"dashboard", "--port", "0"}, args...)...)
	cmd.Env = e.environ()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
		if t.Failed() {
			t.Logf("dashboard stderr:\n%s", stderr.String())
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	d := &runningDashboard{}
	deadline := time.After(30 * time.Second)
	for d.url == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("ipcluster dashboard ended without printing its address:\n%s%s", strings.Join(d.lines, "\n"), stderr.String())
			}
			d.lines = append(d.lines, line)
			if u, ok := strings.CutPrefix(line, "dashboard: http://"); ok {
				d.url = "http://" + u
			}
		case <-deadline:
			t.Fatalf("ipcluster dashboard printed no address within 30s:\n%s", stderr.String())
		}
	}
	d.more = lines
	t.Cleanup(func() {
		go func() {
			for range lines {
			}
		}()
	})
	d.base, d.token, _ = strings.Cut(d.url, "/?token=")
	return d
}

// get fetches a path with the token and decodes the JSON answer into v.
func (d *runningDashboard) get(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(d.base + path + "?token=" + d.token)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

// request sends a request without the token unless header carries it, and returns the
// status code.
func (d *runningDashboard) request(t *testing.T, method, path string, header map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest(method, d.base+path, strings.NewReader("{}"))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (d *runningDashboard) action(t *testing.T, name string) int {
	return d.request(t, "POST", "/api/actions/"+name, map[string]string{dashboard.TokenHeader: d.token, "Content-Type": "application/json"})
}

// browser starts headless Chromium (Debian's chromium) for the test, with the flags it needs
// as root and on a machine without internet.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found (%v): run `make deps` (scripts/deps.sh installs Debian's chromium)", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-component-update", true), chromedp.WindowSize(1100, 800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	return ctx
}

// screenshot saves the page as PNG: into $IPCLUSTER_SCREENSHOT_DIR when set (kept), else
// into the test's temporary directory; the path is logged.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("IPCLUSTER_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}
