package launchers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ipcluster/internal/shellquote"
	"ipcluster/remote"
)

// The remote side is POSIX sh. Each process is started as
//
//	setsid sh -c wrapper ipp-wrap EXITFILE env K=V... PROGRAM ARGS... >LOG 2>&1 </dev/null &
//
// so it leads its own process group (signals go to the group) and the wrapper records the
// program's real exit status in EXITFILE. The wrapper ignores nothing: it traps the signals a
// user sends (its child gets them from the group) and keeps waiting.
const wrapper = `x=$1; shift; "$@" & c=$!; trap : HUP INT TERM USR1 USR2
while :; do wait "$c"; s=$?; kill -0 "$c" 2>/dev/null || break; done; echo "$s" > "$x"`

// procFuncs are the shell functions the status, signal and stop scripts share: alive PID
// START is true while PID runs (not a zombie) and is the process started at START (clock
// ticks after boot, from /proc), so a reused pid is never taken for ours.
const procFuncs = `alive() { [ -r /proc/$1/stat ] && read -r l < /proc/$1/stat || return 1
  set -- "$2" ${l##*) }; [ "$2" != Z ] && [ "$2" != X ] && [ "${21}" = "$1" ]; }
`

func shell(script string) string { return "sh -c " + shellquote.Quote(script) }

func exitFile(p Process) string { return p.Output + ".exit" }

func (d sshData) commandContext(ctx context.Context) (context.Context, context.CancelFunc) {
	t := time.Duration(d.CommandTimeout * float64(time.Second))
	if t <= 0 {
		t = 30 * time.Second
	}
	return context.WithTimeout(ctx, t+d.stopTimeout())
}

func (d sshData) stopTimeout() time.Duration {
	if d.StopTimeout <= 0 {
		return 5 * time.Second
	}
	return time.Duration(d.StopTimeout * float64(time.Second))
}

// hostArgv is the command line each process of p runs on its host: env with the request's
// variables, then the program and its arguments.
func (p hostPlan) hostArgv() []string {
	argv := []string{"env"}
	keys := make([]string, 0, len(p.env))
	for k := range p.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		argv = append(argv, k+"="+p.env[k])
	}
	return append(argv, p.argv...)
}

// startOnHost starts the plan's processes in one session and fills in their pids.
func startOnHost(ctx context.Context, c *remote.Client, p hostPlan, procs []Process) error {
	var b strings.Builder
	dirs := map[string]bool{}
	for _, pr := range procs {
		dirs[path.Dir(pr.Output)] = true
	}
	for dir := range dirs {
		fmt.Fprintf(&b, "mkdir -p %s || exit 1\n", shellquote.Quote(dir))
	}
	argv := p.hostArgv()
	for _, pr := range procs {
		fmt.Fprintf(&b, "rm -f %s\nsetsid sh -c %s ipp-wrap %s %s >%s 2>&1 </dev/null &\n",
			shellquote.Quote(exitFile(pr)), shellquote.Quote(wrapper), shellquote.Quote(exitFile(pr)), shellquote.Join(argv), shellquote.Quote(pr.Output))
		b.WriteString(`echo "__pid $! $(sed 's/.*) //' /proc/$!/stat | cut -d' ' -f20)"` + "\n")
	}
	r, err := c.Run(ctx, shell(b.String()), nil)
	if err != nil {
		return fmt.Errorf("ssh %s: start: %w", p.host, err)
	}
	i := 0
	sc := bufio.NewScanner(bytes.NewReader(r.Stdout))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "__pid" || i >= len(procs) {
			continue
		}
		procs[i].PID, _ = strconv.Atoi(f[1])
		procs[i].StartTime, _ = strconv.ParseUint(f[2], 10, 64)
		i++
	}
	if r.Code != 0 || i != len(procs) {
		return fmt.Errorf("ssh %s: start %s: exit status %d, %d of %d pids: %s", p.host, p.argv[0], r.Code, i, len(procs), strings.TrimSpace(string(r.Stderr)))
	}
	return nil
}

// procState is one process's state on its host.
type procState struct {
	running bool
	code    *int
}

// statusOnHost reads the processes' states in one command.
func statusOnHost(ctx context.Context, c *remote.Client, procs []Process) ([]procState, error) {
	var b strings.Builder
	b.WriteString(procFuncs)
	for _, p := range procs {
		fmt.Fprintf(&b, "if alive %d %d; then echo run; elif [ -s %s ]; then echo \"exit $(cat %s)\"; else echo gone; fi\n",
			p.PID, p.StartTime, shellquote.Quote(exitFile(p)), shellquote.Quote(exitFile(p)))
	}
	out, err := c.Output(ctx, shell(b.String()))
	if err != nil {
		return nil, fmt.Errorf("ssh %s: status: %w", c.Target.Name, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(procs) {
		return nil, fmt.Errorf("ssh %s: status: %d lines for %d processes: %q", c.Target.Name, len(lines), len(procs), out)
	}
	states := make([]procState, len(procs))
	for i, l := range lines {
		f := strings.Fields(l)
		switch {
		case len(f) == 1 && f[0] == "run":
			states[i].running = true
		case len(f) == 2 && f[0] == "exit":
			if n, err := strconv.Atoi(f[1]); err == nil {
				states[i].code = &n
			}
		}
	}
	return states, nil
}

// Status is failed as soon as any process has failed (an engine that exits at once should
// not wait for the others), running while any runs, done once all ended well (or were
// stopped). A failure's reason carries the host, the exit status and the log's last lines.
func (l *sshLauncher) Status(ctx context.Context, h *Handle) (State, error) {
	l.mu.Lock()
	last, ok := l.recent[h]
	l.mu.Unlock()
	if ok && time.Since(last.at) < pollInterval {
		return last.state, nil
	}
	st, err := l.status(ctx, h)
	if err == nil {
		l.mu.Lock()
		l.recent[h] = polled{time.Now(), st}
		l.mu.Unlock()
	}
	return st, err
}

func (l *sshLauncher) status(ctx context.Context, h *Handle) (State, error) {
	d, err := handleData(h)
	if err != nil {
		return State{}, err
	}
	states := make([]procState, len(h.Processes))
	byHost := map[string][]int{}
	var hosts []string
	for i, p := range h.Processes {
		if _, ok := byHost[p.Host]; !ok {
			hosts = append(hosts, p.Host)
		}
		byHost[p.Host] = append(byHost[p.Host], i)
	}
	pool := l.pool(d.Conn)
	reasons := make([]string, len(hosts))
	err = remote.ForEach(ctx, hostIndexes(hosts), 16, func(ctx context.Context, hi int) error {
		ctx, cancel := d.commandContext(ctx)
		defer cancel()
		c, err := pool.Get(ctx, hosts[hi])
		if err != nil {
			return err
		}
		idx := byHost[hosts[hi]]
		procs := make([]Process, len(idx))
		for j, i := range idx {
			procs[j] = h.Processes[i]
		}
		st, err := statusOnHost(ctx, c, procs)
		if err != nil {
			return err
		}
		for j, i := range idx {
			states[i] = st[j]
			if code := st[j].code; code != nil && *code != 0 && reasons[hi] == "" {
				p := procs[j]
				reasons[hi] = fmt.Sprintf("process %d on %s exited with status %d", p.PID, p.Host, *code)
				if out, err := c.Output(ctx, "tail -n 20 "+shellquote.Quote(p.Output)); err == nil && len(out) > 0 {
					reasons[hi] += "; last lines of " + p.Host + ":" + p.Output + ":\n" + strings.TrimRight(string(out), "\n")
				}
			}
		}
		return nil
	})
	if err != nil {
		return State{}, err
	}
	var st State
	seen := map[string]bool{}
	for i, s := range states {
		if s.running {
			st.Running++
			if host := h.Processes[i].Host; !seen[host] {
				seen[host] = true
				st.Hosts = append(st.Hosts, host)
			}
		}
		if s.code != nil && *s.code != 0 && st.ExitCode == nil {
			st.ExitCode = s.code
		}
	}
	for _, r := range reasons {
		if r != "" {
			st.Reason = r
			break
		}
	}
	switch {
	case st.ExitCode != nil:
		st.Phase = Failed
	case st.Running > 0:
		st.Phase = Running
	default:
		st.Phase = Done
	}
	return st, nil
}

func hostIndexes(hosts []string) []int {
	out := make([]int, len(hosts))
	for i := range out {
		out[i] = i
	}
	return out
}

// signalOnHost sends sig to the process group of each process still running.
func signalOnHost(ctx context.Context, c *remote.Client, procs []Process, sig syscall.Signal) error {
	var b strings.Builder
	b.WriteString(procFuncs)
	for _, p := range procs {
		if p.PID > 0 {
			fmt.Fprintf(&b, "alive %d %d && kill -%d -%d\n", p.PID, p.StartTime, int(sig), p.PID)
		}
	}
	b.WriteString("exit 0\n")
	if _, err := c.Output(ctx, shell(b.String())); err != nil {
		return fmt.Errorf("ssh %s: signal %d: %w", c.Target.Name, int(sig), err)
	}
	return nil
}

// stopOnHost sends SIGTERM to each process group, waits up to grace on the host for them
// to end, then SIGKILLs what is left, all in one command.
func stopOnHost(ctx context.Context, c *remote.Client, procs []Process, grace time.Duration) error {
	var b strings.Builder
	b.WriteString(procFuncs)
	var checks []string
	for _, p := range procs {
		if p.PID > 0 {
			checks = append(checks, fmt.Sprintf("alive %d %d", p.PID, p.StartTime))
			fmt.Fprintf(&b, "alive %d %d && kill -TERM -%d\n", p.PID, p.StartTime, p.PID)
		}
	}
	if len(checks) == 0 {
		return nil
	}
	fmt.Fprintf(&b, "any() { %s; }\ni=0; while any && [ $i -lt %d ]; do sleep 0.05; i=$((i+1)); done\n",
		strings.Join(checks, " || "), int(grace/(50*time.Millisecond)))
	for _, p := range procs {
		if p.PID > 0 {
			fmt.Fprintf(&b, "alive %d %d && kill -KILL -%d\n", p.PID, p.StartTime, p.PID)
		}
	}
	b.WriteString("exit 0\n")
	if _, err := c.Output(ctx, shell(b.String())); err != nil {
		return fmt.Errorf("ssh %s: stop: %w", c.Target.Name, err)
	}
	return nil
}
