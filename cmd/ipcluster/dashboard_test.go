package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ipcluster/internal/harness"
	"ipcluster/internal/testutil"
)

// The dashboard of 4 Go engines in one Slurm job, in headless Chromium: a row per engine and
// the job with Slurm's state; the JSON agrees with `ipcluster list`; a failed task is listed;
// an engine killed with SIGKILL shows lost within 10 s, without a reload.
func TestDashboardSlurmInChromium(t *testing.T) {
	harness.Slurm(t)
	e := newEnv(t)
	e.mustIPCluster("start", "--engine-kind=go", "-n", "4", "--engines=slurm", "--daemonize", "--cluster-id=dash")
	st := listOne(t, e)
	if len(st.JobIDs) != 1 {
		t.Fatalf("list: %+v", st)
	}
	job := st.JobIDs[0]
	d := startDashboard(t, e, "--cluster-id=dash")
	ctx := browser(t)
	if _, err := chromedp.Run(ctx, chromedp.Navigate(d.url)); err != nil {
		t.Fatalf("open %s: %v", d.url, err)
	}
	rows := `document.querySelectorAll('tr.engine').length === 4 && document.querySelectorAll('tr.engine[data-state="idle"]').length === 4`
	jobRow := fmt.Sprintf(`document.querySelector('tr.job[data-job-id="%s"]')`, job)
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](rows+` && `+jobRow+` !== null`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("4 idle engine rows and job %s: %v\npage:\n%s", job, err, html)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](jobRow+`.innerText`))
	if err != nil || !strings.Contains(text, "RUNNING") || !strings.Contains(text, "0 1 2 3") {
		t.Errorf("job row %q (%v): want Slurm's RUNNING and engines 0 1 2 3", text, err)
	}
	dashboardMatchesList(t, e, d)
	var v struct {
		Jobs []struct {
			Elapsed  *string `json:"elapsed"`
			TimeLeft *string `json:"time_left"`
		} `json:"jobs"`
	}
	if d.get(t, "/api/cluster", &v); len(v.Jobs) != 1 || v.Jobs[0].Elapsed == nil || v.Jobs[0].TimeLeft == nil {
		t.Errorf("the job's run time and time left (squeue %%M, %%L) are not shown: %+v", v.Jobs)
	}

	// Some task flow, one task failing, for the charts and the failures (and the screenshot).
	if out, code := e.ipcluster("map", "--cluster-id=dash", "--range", "1-80", "--", "sleep 0.1; test {} -ne 17"); code != 1 || !strings.Contains(out, "79 succeeded, 1 failed") {
		t.Fatalf("map exited %d:\n%s", code, out)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`document.querySelectorAll('li.failure').length === 1`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the failed task is not shown: %v", err)
	}

	// SIGKILL one engine: the page (never reloaded: the mark set now stays) shows it lost.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`)); err != nil {
		t.Fatal(err)
	}
	pid := enginePID(t, e)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	lost := `window.notReloaded === true && document.querySelectorAll('tr.engine[data-state="lost"]').length === 1 && document.querySelectorAll('tr.engine').length === 4`
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](lost, chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("engine (pid %d) not shown lost within 10s of kill -9: %v\npage:\n%s", pid, err, html)
	}
	t.Logf("engine pid %d shown lost %v after kill -9", pid, time.Since(killed).Round(100*time.Millisecond))
	screenshot(t, ctx, "dashboard-slurm.png")
}

// enginePID is the pid of one of the cluster's engine processes.
func enginePID(t *testing.T, e *env) int {
	t.Helper()
	for _, p := range e.processes() {
		pid, cmdline, _ := strings.Cut(p, ": ")
		if fields := strings.Fields(cmdline); len(fields) > 0 && filepath.Base(fields[0]) == "ipengine" {
			n, _ := strconv.Atoi(pid)
			return n
		}
	}
	t.Fatalf("no engine process among:\n%s", strings.Join(e.processes(), "\n"))
	return 0
}

// dashboardMatchesList checks that /api/cluster says what `ipcluster list -o json` says, for
// every field of list's and for the engines and jobs both show.
func dashboardMatchesList(t *testing.T, e *env, d *runningDashboard) {
	t.Helper()
	var diff string
	ok := testutil.WithinEvery(30*time.Second, time.Second, func() bool {
		var listed []map[string]any
		if err := json.Unmarshal([]byte(e.mustIPCluster("list", "-o", "json")), &listed); err != nil || len(listed) != 1 {
			diff = fmt.Sprintf("list -o json: %v %v", err, listed)
			return false
		}
		var v struct {
			Cluster map[string]any   `json:"cluster"`
			Engines []map[string]any `json:"engines"`
			Jobs    []map[string]any `json:"jobs"`
		}
		d.get(t, "/api/cluster", &v)
		var diffs []string
		for k, want := range listed[0] {
			if got := v.Cluster[k]; !reflect.DeepEqual(got, want) {
				diffs = append(diffs, fmt.Sprintf("%s: dashboard %v, list %v", k, got, want))
			}
		}
		live := 0
		for _, en := range v.Engines {
			for _, k := range []string{"id", "kind", "host", "pid", "state"} {
				if _, ok := en[k]; !ok {
					diffs = append(diffs, fmt.Sprintf("engine %v has no %q", en["id"], k))
				}
			}
			if s := en["state"]; s != "lost" && s != "stopped" {
				live++
			}
		}
		if reg, _ := listed[0]["engines_registered"].(float64); int(reg) != live {
			diffs = append(diffs, fmt.Sprintf("%d live engines in the dashboard, %v registered in list", live, reg))
		}
		jobs := map[string]any{}
		for _, j := range listed[0]["jobs"].([]any) {
			j := j.(map[string]any)
			jobs[j["id"].(string)] = j["state"]
		}
		for _, j := range v.Jobs {
			if jobs[j["id"].(string)] != j["state"] {
				diffs = append(diffs, fmt.Sprintf("job %v: dashboard %v, list %v", j["id"], j["state"], jobs[j["id"].(string)]))
			}
		}
		if len(v.Jobs) != len(jobs) {
			diffs = append(diffs, fmt.Sprintf("%d jobs in the dashboard, %d in list", len(v.Jobs), len(jobs)))
		}
		diff = strings.Join(diffs, "\n")
		return len(diffs) == 0
	})
	if !ok {
		t.Errorf("/api/cluster and ipcluster list -o json disagree:\n%s", diff)
	}
}

// Without the token every request gets 403; --read-only refuses actions; without it, the
// page's "stop cluster" stops the cluster as `ipcluster stop` does.
func TestDashboardTokenReadOnlyAndStop(t *testing.T) {
	e := newEnv(t)
	e.mustIPCluster("start", "--engine-kind=go", "-n", "1", "--daemonize")
	ro := startDashboard(t, e, "--read-only")
	for _, p := range []string{"/", "/static/app.js", "/api/cluster", "/api/events"} {
		if code := ro.request(t, "GET", p, nil); code != http.StatusForbidden {
			t.Errorf("GET %s without the token: %d, want 403", p, code)
		}
	}
	if code := ro.request(t, "GET", "/api/cluster?token=0"+ro.token[1:], nil); code != http.StatusForbidden {
		t.Errorf("a wrong token: %d, want 403", code)
	}
	if code := ro.request(t, "GET", "/?token="+ro.token, nil); code != http.StatusOK {
		t.Errorf("the printed URL: %d", code)
	}
	if code := ro.action(t, "stop-cluster"); code != http.StatusForbidden {
		t.Errorf("stop-cluster on a --read-only dashboard: %d, want 403", code)
	}
	if st := listOne(t, e); st.Controller != "running" {
		t.Fatalf("the read-only dashboard stopped the cluster: %+v", st)
	}
	mapProgressShown(t, e, ro)

	// Logged in over ssh: the dashboard also says how to reach it from the laptop.
	e.extra = append(e.extra, "SSH_CONNECTION=192.0.2.1 50000 192.0.2.2 22")
	rw := startDashboard(t, e)
	e.extra = e.extra[:len(e.extra)-1]
	port := rw.base[strings.LastIndexByte(rw.base, ':')+1:]
	if hint := rw.nextLine(10 * time.Second); !strings.Contains(hint, "ssh -N -L "+port+":127.0.0.1:"+port+" ") || !strings.Contains(hint, "token="+rw.token) {
		t.Errorf("over ssh, no ssh -L line after the address; got %q", hint)
	}
	if code := rw.request(t, "POST", "/api/actions/stop-cluster", nil); code != http.StatusForbidden {
		t.Errorf("an action without the token: %d, want 403", code)
	}
	if code := rw.action(t, "stop-cluster"); code != http.StatusOK {
		t.Fatalf("stop-cluster: %d", code)
	}
	if out := e.mustIPCluster("list"); strings.Contains(out, "running") {
		t.Errorf("cluster still listed after the dashboard stopped it:\n%s", out)
	}
	// The other dashboard, still up, shows the engine stopped (on purpose), not lost.
	var v struct {
		Engines []struct {
			State string `json:"state"`
		} `json:"engines"`
	}
	if !testutil.WithinEvery(10*time.Second, 200*time.Millisecond, func() bool {
		ro.get(t, "/api/cluster", &v)
		return len(v.Engines) == 1 && v.Engines[0].State == "stopped"
	}) {
		t.Errorf("after the cluster was stopped the engine shows %+v, want stopped", v.Engines)
	}
	e.assertNoProcesses()
}

// mapProgressShown runs a map and watches its progress in the dashboard's JSON, until the
// map ends and its progress goes.
func mapProgressShown(t *testing.T, e *env, d *runningDashboard) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "ipcluster"), "map", "--range", "1-12", "--", "sleep 0.5; echo {}")
	cmd.Env = e.environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Maps []struct {
			PID        int      `json:"pid"`
			Total      int      `json:"total"`
			Done       int      `json:"done"`
			Rate       float64  `json:"rate"`
			ETASeconds *float64 `json:"eta_seconds"`
		} `json:"maps"`
	}
	running := testutil.WithinEvery(20*time.Second, 200*time.Millisecond, func() bool {
		d.get(t, "/api/cluster", &v)
		return len(v.Maps) == 1 && v.Maps[0].PID == cmd.Process.Pid && v.Maps[0].Total == 12 && v.Maps[0].Done > 0 && v.Maps[0].Rate > 0 && v.Maps[0].ETASeconds != nil
	})
	if err := cmd.Wait(); err != nil {
		t.Fatalf("map: %v", err)
	}
	if !running {
		t.Fatalf("the running map's progress was not shown: %+v", v)
	}
	testutil.Eventually(t, 10*time.Second, "the map's progress gone once it ended", func() bool {
		d.get(t, "/api/cluster", &v)
		return len(v.Maps) == 0
	})
}

// ipyparallel's own controller (7.1) with its Python engines: the page loads and shows them,
// and the task records (failures with their stderr) are read from its database.
func TestDashboardOnPythonController(t *testing.T) {
	requirePythonEngine(t)
	e := newEnv(t)
	ctl := exec.Command("/usr/bin/python3", "-m", "ipyparallel.controller", "--ip=127.0.0.1")
	ctl.Env = e.environ()
	ctlLog, _ := os.Create(filepath.Join(e.dir, "python-controller.log"))
	ctl.Stdout, ctl.Stderr = ctlLog, ctlLog
	if err := ctl.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Process.Signal(syscall.SIGTERM); ctl.Wait(); ctlLog.Close() })
	engineFile := filepath.Join(e.dir, "profile_default", "security", "ipcontroller-engine.json")
	testutil.Eventually(t, time.Minute, "the Python controller's connection file", func() bool { _, err := os.Stat(engineFile); return err == nil })
	e.mustIPCluster("engines", "-n", "2", "--engine-kind=python")
	e.ipcluster("px", "--", "echo the-python-side-failed >&2; exit 3") // fails on both engines

	d := startDashboard(t, e, "--read-only")
	ctx := browser(t)
	if _, err := chromedp.Run(ctx, chromedp.Navigate(d.url)); err != nil {
		t.Fatal(err)
	}
	shown := `document.querySelectorAll('tr.engine').length === 2 && [...document.querySelectorAll('tr.engine')].every(r => r.dataset.state === 'idle' && r.innerText.includes('python')) && document.querySelectorAll('li.failure').length === 2`
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](shown, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("2 idle python engines and 2 failures: %v\npage:\n%s", err, html)
	}
	failures, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('failures').innerText`))
	if !strings.Contains(failures, "the-python-side-failed") || !strings.Contains(failures, "engine 0") || !strings.Contains(failures, "engine 1") {
		t.Errorf("the failures do not name engines 0 and 1 with the tasks' stderr:\n%s", failures)
	}
	var v struct {
		Errors     []string `json:"errors"`
		Controller struct {
			Connected bool `json:"connected"`
		} `json:"controller"`
	}
	d.get(t, "/api/cluster", &v)
	if !v.Controller.Connected || len(v.Errors) != 0 {
		t.Errorf("against ipyparallel's controller: connected %v, errors %q", v.Controller.Connected, v.Errors)
	}
	screenshot(t, ctx, "dashboard-python-controller.png")
}

// `ipcluster top` in an 80x24 tmux pane shows the engines and quits on q.
func TestTopUnderTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux not found (%v): run `make deps`", err)
	}
	e := newEnv(t)
	e.mustIPCluster("start", "--engine-kind=go", "-n", "2", "--daemonize")
	socket := "ipcluster-top-" + strconv.Itoa(os.Getpid())
	status := filepath.Join(e.dir, "top.status")
	tmux := func(args ...string) (string, error) {
		cmd := exec.Command("tmux", append([]string{"-L", socket, "-f", "/dev/null"}, args...)...)
		cmd.Env = e.environ()
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	script := fmt.Sprintf("%s top; echo \"exit $?\" > %s", filepath.Join(binDir, "ipcluster"), status)
	if out, err := tmux("new-session", "-d", "-s", "top", "-x", "80", "-y", "24", "sh", "-c", script); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { tmux("kill-server") })
	var screen string
	shows := func() bool {
		screen, _ = tmux("capture-pane", "-p", "-t", "top")
		return strings.Contains(screen, "ID  STATE") && strings.Contains(screen, "\n0   idle") && strings.Contains(screen, "\n1   idle")
	}
	if !testutil.WithinEvery(30*time.Second, 200*time.Millisecond, shows) {
		t.Fatalf("top does not show the 2 engines:\n%s", screen)
	}
	for _, line := range strings.Split(screen, "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("a line of %d columns: %q", n, line)
		}
	}
	if out, err := tmux("send-keys", "-t", "top", "q"); err != nil {
		t.Fatalf("send-keys: %v\n%s", err, out)
	}
	var got []byte
	if !testutil.WithinEvery(10*time.Second, 100*time.Millisecond, func() bool { got, _ = os.ReadFile(status); return len(got) > 0 }) {
		screen, _ = tmux("capture-pane", "-p", "-t", "top")
		t.Fatalf("top did not quit on q:\n%s", screen)
	}
	if strings.TrimSpace(string(got)) != "exit 0" {
		t.Errorf("top quit with %q", got)
	}
}
