package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ipcluster/internal/procstat"
	"ipcluster/runtime/client"
	"ipcluster/runtime/client/clienttest"
)

// TestGoEngines: the Go client and two Go (shell) engines, through our controller and
// through ipyparallel's Python ipcontroller: the client must work the same with both.
func TestGoEngines(t *testing.T) {
	if _, err := clienttest.Executable("ipengine"); err != nil {
		t.Skip(err)
	}
	for _, kind := range []clienttest.Kind{clienttest.Go, clienttest.PyKind} {
		t.Run(string(kind)+" controller", func(t *testing.T) {
			var args []string
			if kind == clienttest.PyKind {
				needPythonIPP(t)
				args = []string{"--ping=500"} // default 3 s beats make registration take ~6 s
			} else {
				args = []string{"--ping=200"}
			}
			ctx := testContext(t)
			cl := newCluster(t)
			if _, err := cl.StartController(ctx, kind, args...); err != nil {
				t.Fatal(err)
			}
			if _, err := cl.StartEngines(clienttest.Go, 2); err != nil {
				t.Fatal(err)
			}
			c := connect(t, ctx, cl)
			ids := waitForEngines(t, ctx, c, cl, 2)
			testShellEngines(t, ctx, c, cl, ids)
		})
	}
}

func testShellEngines(t *testing.T, ctx context.Context, c *client.Client, cl *clienttest.Cluster, ids []int) {
	scratch := t.TempDir()

	t.Run("direct", func(t *testing.T) {
		results, err := c.Execute(ctx, nil, "echo out; echo err >&2")
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range results {
			if r.Stdout != "out\n" || r.Stderr != "err\n" || r.ExitCode != 0 || r.EngineID != ids[i] {
				t.Errorf("engine %d: %+v", ids[i], r)
			}
		}
	})

	t.Run("broadcast", func(t *testing.T) {
		futs, err := c.BroadcastAsync(ctx, nil, "echo everywhere")
		if err != nil {
			t.Fatal(err)
		}
		results, err := client.WaitAll(ctx, futs)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range results {
			if r.Stdout != "everywhere\n" || r.EngineID != ids[i] {
				t.Errorf("engine %d: %+v", ids[i], r)
			}
		}
	})

	t.Run("failed command carries its exit code", func(t *testing.T) {
		results, err := c.Execute(ctx, ids[:1], "echo partial; exit 3")
		re := remoteError(t, err)
		if re.EngineID != ids[0] || re.FromController() || !strings.Contains(re.Value, "3") {
			t.Errorf("error %#v", re)
		}
		if r := results[0]; r.ExitCode != 3 || r.Status != "error" || r.Stdout != "partial\n" {
			t.Errorf("result %+v, want exit code 3 with its output", r)
		}
	})

	t.Run("load-balanced spreads over engines", func(t *testing.T) {
		var futs []*client.Future
		for i := range 6 {
			f, err := c.Submit(ctx, fmt.Sprintf("sleep 0.2; echo %d", i), client.TaskOptions{})
			if err != nil {
				t.Fatal(err)
			}
			futs = append(futs, f)
		}
		results, err := client.WaitAll(ctx, futs)
		if err != nil {
			t.Fatal(err)
		}
		used := map[int]bool{}
		for i, r := range results {
			if r.Stdout != fmt.Sprintf("%d\n", i) {
				t.Errorf("task %d: stdout %q", i, r.Stdout)
			}
			used[r.EngineID] = true
		}
		if len(used) != 2 {
			t.Errorf("tasks ran on engines %v, want both", used)
		}
	})

	t.Run("many goroutines at once", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8*20)
		for g := range 8 {
			wg.Go(func() {
				for i := range 20 {
					want := fmt.Sprintf("%d.%d", g, i)
					var r client.Result
					var err error
					if i%2 == 0 {
						var f *client.Future
						if f, err = c.Submit(ctx, "echo "+want, client.TaskOptions{}); err == nil {
							r, err = f.Wait(ctx)
						}
					} else {
						var rs []client.Result
						if rs, err = c.Execute(ctx, ids[i%2:i%2+1], "echo "+want); err == nil {
							r = rs[0]
						}
					}
					if err == nil && r.Stdout != want+"\n" {
						err = fmt.Errorf("got %q, want %q", r.Stdout, want)
					}
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("targets", func(t *testing.T) {
		f, err := c.Submit(ctx, "true", client.TaskOptions{Targets: ids[1:]})
		if err != nil {
			t.Fatal(err)
		}
		if r, err := f.Wait(ctx); err != nil || r.EngineID != ids[1] {
			t.Errorf("targeted task: %+v, %v; want engine %d", r, err, ids[1])
		}
	})

	t.Run("after", func(t *testing.T) {
		marker := filepath.Join(scratch, "after")
		first, err := c.Submit(ctx, "sleep 0.5; touch "+marker, client.TaskOptions{})
		if err != nil {
			t.Fatal(err)
		}
		second, err := c.Submit(ctx, "test -e "+marker, client.TaskOptions{After: client.DependOn(first)})
		if err != nil {
			t.Fatal(err)
		}
		if r, err := second.Wait(ctx); err != nil {
			t.Errorf("dependent task ran before its dependency finished: %+v, %v", r, err)
		}
	})

	t.Run("follow", func(t *testing.T) {
		first, err := c.Submit(ctx, "true", client.TaskOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r0, err := first.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var futs []*client.Future
		for range 4 {
			f, err := c.Submit(ctx, "sleep 0.1", client.TaskOptions{Follow: client.DependOn(first)})
			if err != nil {
				t.Fatal(err)
			}
			futs = append(futs, f)
		}
		results, err := client.WaitAll(ctx, futs)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if r.EngineID != r0.EngineID {
				t.Errorf("follower ran on engine %d, not %d", r.EngineID, r0.EngineID)
			}
		}
	})

	t.Run("impossible dependency", func(t *testing.T) {
		failing, err := c.Submit(ctx, "exit 1", client.TaskOptions{})
		if err != nil {
			t.Fatal(err)
		}
		dependent, err := c.Submit(ctx, "true", client.TaskOptions{After: client.DependOn(failing)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = dependent.Wait(ctx)
		if !errors.Is(err, client.ErrDependency) || !remoteError(t, err).FromController() {
			t.Errorf("task after a failed one: %v, want a controller ImpossibleDependency", err)
		}
		// depending on failure instead is met
		onFail, err := c.Submit(ctx, "true", client.TaskOptions{After: client.Dependency{MsgIDs: []string{failing.MsgID()}, On: client.OnFailure}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := onFail.Wait(ctx); err != nil {
			t.Errorf("task after a failure, on failure: %v", err)
		}
	})

	t.Run("retries", func(t *testing.T) {
		// fails where it runs first, succeeds anywhere else
		code := func(marker string) string {
			return fmt.Sprintf(`if [ -e %[1]s ]; then echo second try; else echo first try; touch %[1]s; exit 1; fi`, marker)
		}
		f, err := c.Submit(ctx, code(filepath.Join(scratch, "retry0")), client.TaskOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r, err := f.Wait(ctx); err == nil || r.ExitCode != 1 || r.Stdout != "first try\n" {
			t.Errorf("without retries: %+v, %v; want exit code 1", r, err)
		}
		f, err = c.Submit(ctx, code(filepath.Join(scratch, "retry1")), client.TaskOptions{Retries: 1})
		if err != nil {
			t.Fatal(err)
		}
		// the result is the second attempt's, output included, and only its output
		if r, err := f.Wait(ctx); err != nil || r.Stdout != "second try\n" {
			t.Errorf("with one retry: %+v, %v; want success on the second engine", r, err)
		}
	})

	t.Run("killed engine fails its task", func(t *testing.T) {
		victimID := ids[len(ids)-1]
		pids, err := c.Execute(ctx, []int{victimID}, "echo $PPID") // the shell's parent is the engine
		if err != nil {
			t.Fatal(err)
		}
		victim := findProc(t, cl, pids[0].Stdout)
		// the sleep is a grandchild of the engine (the shell waits for it): the engine's guard
		// must stop it when the engine dies. Whichever request runs first writes the pid.
		pidFile := filepath.Join(t.TempDir(), "sleep.pid")
		code := "sleep 300 & echo $! > " + pidFile + "; wait"
		task, err := c.Submit(ctx, code, client.TaskOptions{Targets: []int{victimID}})
		if err != nil {
			t.Fatal(err)
		}
		direct, err := c.ExecuteAsync(ctx, []int{victimID}, code)
		if err != nil {
			t.Fatal(err)
		}
		waitQueued(t, c, victimID, 1, 1)
		var grandchild int
		err = clienttest.WaitUntil(ctx, 10*time.Millisecond, "the task's sleep to start", func() (bool, error) {
			data, _ := os.ReadFile(pidFile)
			grandchild, _ = strconv.Atoi(strings.TrimSpace(string(data)))
			return grandchild > 0, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := victim.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for what, f := range map[string]*client.Future{"task": task, "direct request": direct[0]} {
			if _, err := f.Wait(ctx); !errors.Is(err, client.ErrEngineDied) {
				t.Errorf("%s on the killed engine: %v, want ErrEngineDied", what, err)
			}
		}
		err = clienttest.WaitUntil(ctx, 20*time.Millisecond, "the engine to be dropped", func() (bool, error) {
			return len(c.IDs()) == len(ids)-1, nil
		})
		if err != nil {
			t.Error(err)
		}
		// the guard stops it within the kill grace (3 s), long before the sleep would end
		bounded, cancelBounded := context.WithTimeout(ctx, 15*time.Second)
		defer cancelBounded()
		err = clienttest.WaitUntil(bounded, 20*time.Millisecond, "the killed engine's grandchild to be stopped", func() (bool, error) {
			return !procstat.Alive(grandchild), nil
		})
		if err != nil {
			t.Error(err)
		}
		// the others still work
		if _, err := c.Execute(ctx, nil, "true"); err != nil {
			t.Errorf("surviving engines: %v", err)
		}
	})

	t.Run("shutdown", func(t *testing.T) {
		if err := c.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		for _, p := range append(cl.Engines, cl.Controller) {
			if err := p.Wait(ctx); err != nil {
				t.Error(err)
			}
		}
		if _, err := os.Stat(cl.ClientFile()); !os.IsNotExist(err) {
			t.Errorf("connection file after shutdown: %v", err)
		}
	})
}
