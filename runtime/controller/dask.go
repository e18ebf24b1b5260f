package controller

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"ipcluster/pyfind"
)

// The scheduler program: a distributed.Scheduler built from the client's scheduler_args,
// as ipyparallel's hub builds one in its own process.
//
//go:embed dask_scheduler.py
var daskSchedulerScript string

const (
	daskStartTimeout = 60 * time.Second // importing distributed takes seconds on a busy host
	daskStopTimeout  = 5 * time.Second  // SIGTERM, then SIGKILL
	daskTailLines    = 10
)

// daskScheduler is the dask.distributed scheduler that Client.become_dask() asks the
// controller to become: a child Python process in its own process group, started off the
// event loop and stopped on stop_distributed_request or when the controller stops.
//
// Fields marked "loop" are touched only on the controller's loop; procs is shared with the
// goroutines that start and stop processes and with the controller's shutdown.
type daskScheduler struct {
	c *Controller

	cur     *daskProc                      // loop: the scheduler started or starting, if any
	waiters []func(content map[string]any) // loop: become_dask requests waiting for cur

	mu     sync.Mutex
	procs  map[*daskProc]bool // every scheduler process not yet reaped
	closed bool               // the controller is stopping: start nothing more
}

// daskProc is one scheduler process.
type daskProc struct {
	cmd    *exec.Cmd     // set and started under daskScheduler.mu
	stdin  *os.File      // held open: end of file tells the scheduler its controller is gone
	exited chan struct{} // closed once reaped
	info   map[string]any

	tailMu sync.Mutex
	tail   []string // its last stderr lines, for errors
}

func newDaskScheduler(c *Controller) *daskScheduler {
	return &daskScheduler{c: c, procs: map[*daskProc]bool{}}
}

// become answers become_dask_request: at once when a scheduler runs, else once the one
// being started is ready (or failed). scheduler_args are passed to distributed.Scheduler.
func (d *daskScheduler) become(schedulerArgs json.RawMessage, reply func(content map[string]any)) {
	if d.cur != nil && d.cur.info != nil {
		reply(d.cur.info)
		return
	}
	d.waiters = append(d.waiters, reply)
	if d.cur != nil {
		return // starting; this request is answered with the first one
	}
	args := "{}"
	if len(schedulerArgs) > 0 && string(schedulerArgs) != "null" {
		args = string(schedulerArgs)
	}
	if !strings.HasPrefix(strings.TrimSpace(args), "{") {
		d.answer(errorContent("TypeError", "scheduler_args must be a dict, not "+args, "become_dask"))
		return
	}
	p := &daskProc{exited: make(chan struct{})}
	d.cur = p
	loop := d.c.loop
	go func() {
		info, err := d.start(p, d.withDefaultHost(args))
		loop.Post(func() { d.started(p, info, err) })
	}()
}

// withDefaultHost binds the scheduler where the controller listens (127.0.0.1 unless told
// otherwise) when the client named no host or interface: engines, and so dask workers
// started beside them, reach the controller at that address.
func (d *daskScheduler) withDefaultHost(args string) string {
	ip := d.c.cfg.IP
	if ip == "" || ip == "*" || ip == "0.0.0.0" || d.c.cfg.Transport == "ipc" { // an ipc ip is a path
		return args
	}
	var kw map[string]any
	if json.Unmarshal([]byte(args), &kw) != nil {
		return args
	}
	for _, k := range []string{"host", "interface", "contact_address"} {
		if _, ok := kw[k]; ok {
			return args
		}
	}
	kw["host"] = ip
	out, err := json.Marshal(kw)
	if err != nil {
		return args
	}
	return string(out)
}

// started runs on the loop when a start finished: it answers the waiting requests.
func (d *daskScheduler) started(p *daskProc, info map[string]any, err error) {
	if d.cur != p { // stopped while starting
		if err == nil {
			go d.terminate(p)
		}
		return
	}
	if err != nil {
		d.cur = nil
		d.answer(err.(*daskError).content)
		return
	}
	p.info = info
	d.c.log.Info("dask.distributed scheduler running", "address", info["address"], "pid", p.cmd.Process.Pid)
	d.answer(info)
}

func (d *daskScheduler) answer(content map[string]any) {
	waiters := d.waiters
	d.waiters = nil
	for _, w := range waiters {
		w(content)
	}
}

// stop answers stop_distributed_request: the reply goes once the scheduler process is gone
// (ok also when none runs, as in ipyparallel).
func (d *daskScheduler) stop(reply func(content map[string]any)) {
	p := d.cur
	d.cur = nil
	if p == nil {
		reply(map[string]any{"status": "ok"})
		return
	}
	d.answer(errorContent("RuntimeError", "the dask scheduler was stopped (stop_distributed_request) before it was ready", "become_dask"))
	loop := d.c.loop
	go func() {
		d.terminate(p)
		loop.Post(func() { reply(map[string]any{"status": "ok"}) })
	}()
}

// shutdown stops every scheduler process and waits until each is reaped; after it, none
// can be started. Called once the loop has stopped.
func (d *daskScheduler) shutdown() {
	d.mu.Lock()
	d.closed = true
	var procs []*daskProc
	for p := range d.procs {
		procs = append(procs, p)
	}
	d.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); d.terminate(p) }()
	}
	wg.Wait()
}

// daskError carries the error reply for a failed start.
type daskError struct{ content map[string]any }

func (e *daskError) Error() string { return fmt.Sprint(e.content["evalue"]) }

func daskFailure(ename, evalue string) error {
	return &daskError{errorContent(ename, evalue, "become_dask")}
}

// start finds a Python with distributed, starts the scheduler and waits (with a deadline)
// for the line that says where it listens. It runs off the loop.
func (d *daskScheduler) start(p *daskProc, args string) (map[string]any, error) {
	py, err := pyfind.Find("distributed")
	if err != nil {
		return nil, daskFailure("ModuleNotFoundError", "dask.distributed is not installed for this controller, so it cannot become a dask scheduler ("+
			err.Error()+"); install it (Debian/Ubuntu: apt install python3-distributed; otherwise: pip install distributed) "+
			"or set "+pyfind.EnvVar+" to a Python that has it")
	}
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return nil, daskFailure("OSError", "dask scheduler: "+err.Error())
	}
	defer stdinR.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		stdinW.Close()
		return nil, daskFailure("OSError", "dask scheduler: "+err.Error())
	}
	defer outR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		stdinW.Close()
		outW.Close()
		return nil, daskFailure("OSError", "dask scheduler: "+err.Error())
	}
	cmd := exec.Command(py, "-c", daskSchedulerScript, args)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinR, outW, errW
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // signals to the controller's group do not reach it; we stop it ourselves

	d.mu.Lock() // p.cmd is read by terminate on the loop while this goroutine starts it
	p.cmd, p.stdin = cmd, stdinW
	if d.closed {
		d.mu.Unlock()
		stdinW.Close()
		outW.Close()
		errW.Close()
		errR.Close()
		return nil, daskFailure("RuntimeError", "the controller is stopping")
	}
	err = cmd.Start()
	if err == nil {
		d.procs[p] = true
	}
	d.mu.Unlock()
	outW.Close()
	errW.Close()
	if err != nil {
		stdinW.Close()
		errR.Close()
		return nil, daskFailure("OSError", "start the dask scheduler: "+err.Error())
	}
	go func() {
		cmd.Wait()
		d.mu.Lock()
		delete(d.procs, p)
		d.mu.Unlock()
		p.stdin.Close()
		close(p.exited)
	}()
	go p.collectStderr(errR, d)

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(outR)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		for sc.Scan() { // keep the pipe drained
		}
	}()
	timer := time.NewTimer(daskStartTimeout)
	defer timer.Stop()
	select {
	case line, ok := <-lines:
		var info map[string]any
		if ok && json.Unmarshal([]byte(line), &info) == nil && info["address"] != nil {
			info["status"] = "ok"
			return info, nil
		}
		if ok { // not the line the script prints: something else is wrong
			d.terminate(p)
			return nil, daskFailure("RuntimeError", "the dask scheduler printed "+strconv.Quote(line)+" instead of its address")
		}
		<-p.exited
		return nil, daskFailure("RuntimeError", "the dask scheduler exited before it was ready: "+p.lastLines())
	case <-timer.C:
		d.terminate(p)
		return nil, daskFailure("TimeoutError", fmt.Sprintf("the dask scheduler was not ready within %v: %s", daskStartTimeout, p.lastLines()))
	}
}

// collectStderr keeps the scheduler's last lines and logs each one (debug level: it is
// the scheduler's own log).
func (p *daskProc) collectStderr(r *os.File, d *daskScheduler) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		d.c.log.Debug("dask scheduler", "line", line)
		p.tailMu.Lock()
		p.tail = append(p.tail, line)
		if len(p.tail) > daskTailLines {
			p.tail = p.tail[1:]
		}
		p.tailMu.Unlock()
	}
}

func (p *daskProc) lastLines() string {
	p.tailMu.Lock()
	defer p.tailMu.Unlock()
	for i := len(p.tail) - 1; i >= 0; i-- { // a Python traceback ends with the error itself
		if s := strings.TrimSpace(p.tail[i]); s != "" {
			return s
		}
	}
	return fmt.Sprintf("it printed nothing (exit: %v)", p.cmd.ProcessState)
}

// terminate stops p's process group: SIGTERM, then SIGKILL after daskStopTimeout; it
// returns once the process is reaped.
func (d *daskScheduler) terminate(p *daskProc) {
	d.mu.Lock()
	cmd := p.cmd
	d.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	pgid := cmd.Process.Pid
	select {
	case <-p.exited:
		return // reaped: its pid may already belong to another process
	default:
	}
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(daskStopTimeout):
		d.c.log.Warn("dask scheduler ignored SIGTERM; killing it", "pid", pgid)
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.exited
	}
}
