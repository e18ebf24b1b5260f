// Command gobench compares our Go controller with ipyparallel's Python ipcontroller on the
// load-balanced task path: the Go client submits many empty-code tasks to Go engines
// (pipelined, all outstanding at once) through each controller, then runs single tasks one
// after the other, and prints tasks/s, the median round trip, and the ratio ours/Python
// (above 1: ours is better).
//
//	go run ./bench/gobench [--tasks 20000] [--rtt 500] [--engines 4] [--runs 1]
//
// It needs bin/ipcontroller and bin/ipengine (`make build`, or IPCLUSTER_BIN) and
// /usr/bin/python3 with ipyparallel 7.1 (Debian python3-ipyparallel).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"ipcluster/runtime/client/clienttest"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gobench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gobench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tasks := fs.Int("tasks", 20000, "empty-code tasks per throughput measurement")
	rtt := fs.Int("rtt", 500, "sequential single tasks for the round-trip median")
	engines := fs.Int("engines", 4, "engines per cluster")
	runs := fs.Int("runs", 1, "runs per controller; the report shows the median")
	engine := fs.String("engine", "go", "engine kind: go (bin/ipengine) or python (ipyparallel's)")
	only := fs.String("controllers", "go,python", "controllers to measure, comma-separated (go, python)")
	dbs := fs.String("db", "dict", "task databases to measure each controller with, comma-separated (dict, sqlite)")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	keep := fs.Bool("keep", false, "keep each cluster's working directory (logs)")
	verbose := fs.Bool("v", false, "log progress")
	cpuProfile := fs.String("cpuprofile", "", "write the client's CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tasks < 1 || *rtt < 1 || *engines < 1 || *runs < 1 {
		return errors.New("--tasks, --rtt, --engines and --runs must be positive")
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	cfg := config{tasks: *tasks, rtt: *rtt, engines: *engines, engine: clienttest.Kind(*engine), keep: *keep,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))}

	kinds, err := clienttest.ParseKinds(*only)
	if err != nil {
		return err
	}
	if err := checkPrerequisites(cfg.engine, kinds); err != nil {
		return err
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, *timeout)
	defer cancelTimeout()

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	var setups []setup
	for _, db := range strings.Split(*dbs, ",") {
		db = strings.TrimSpace(db)
		if dbArgs[db] == "" {
			return fmt.Errorf("unknown task database %q (dict, sqlite)", db)
		}
		for _, kind := range kinds {
			setups = append(setups, setup{kind, db})
		}
	}
	samples := map[setup][]sample{}
	for i := range *runs {
		for _, st := range setups { // alternate, so that a slow spell of the machine hits all
			cfg.log.Info("measuring", "run", i+1, "controller", st.kind, "db", st.db)
			s, err := measure(ctx, cfg, st)
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", i+1, st.name(), err)
			}
			cfg.log.Info("measured", "controller", st.kind, "db", st.db, "tasks/s", s.tasksPerSec, "rtt", s.rtt)
			samples[st] = append(samples[st], s)
		}
	}
	report(stdout, cfg, *runs, setups, samples)
	return nil
}

// checkPrerequisites fails early, saying what to do, when a program is missing.
func checkPrerequisites(engine clienttest.Kind, kinds []clienttest.Kind) error {
	needPython := engine == clienttest.PyKind
	switch engine {
	case clienttest.Go:
		if _, err := clienttest.Executable("ipengine"); err != nil {
			return fmt.Errorf("the Go engine is needed: %w", err)
		}
	case clienttest.PyKind:
	default:
		return fmt.Errorf("unknown engine %q (go, python)", engine)
	}
	for _, k := range kinds {
		if k == clienttest.Go {
			if _, err := clienttest.Executable("ipcontroller"); err != nil {
				return fmt.Errorf("our controller is needed: %w", err)
			}
		} else {
			needPython = true
		}
	}
	if needPython {
		if err := exec.Command(clienttest.Python, "-c", "import ipyparallel").Run(); err != nil {
			return fmt.Errorf("%s cannot import ipyparallel (install Debian's python3-ipyparallel: `make deps`): %w", clienttest.Python, err)
		}
	}
	return nil
}

func name(kind clienttest.Kind) string {
	if kind == clienttest.Go {
		return "ours (Go)"
	}
	return "ipyparallel (Python)"
}

// name is the row label: the controller, and its task database unless in memory.
func (st setup) name() string {
	if st.db == "sqlite" {
		return name(st.kind) + " SQLiteDB"
	}
	return name(st.kind)
}

func report(w io.Writer, cfg config, runs int, setups []setup, samples map[setup][]sample) {
	fmt.Fprintf(w, "%d %s engines, %d empty-code load-balanced tasks pipelined, %d sequential for the round trip; median of %d run(s)\n\n",
		cfg.engines, cfg.engine, cfg.tasks, cfg.rtt, runs)
	fmt.Fprintf(w, "%-31s %10s %13s %10s %27s   %s\n", "controller", "tasks/s", "round trip", "register",
		"CPU µs/task: ctl/eng/client", "runs (tasks/s)")
	med := map[setup]sample{}
	for _, st := range setups {
		var tps []float64
		var rtts, regs, ctl, eng, cli []time.Duration
		var each []string
		for _, s := range samples[st] {
			tps = append(tps, s.tasksPerSec)
			rtts = append(rtts, s.rtt)
			regs = append(regs, s.register)
			ctl, eng, cli = append(ctl, s.cpuController), append(eng, s.cpuEngines), append(cli, s.cpuClient)
			each = append(each, fmt.Sprintf("%.0f", s.tasksPerSec))
		}
		m := sample{tasksPerSec: medianFloat(tps), rtt: medianDuration(rtts), register: medianDuration(regs),
			cpuController: medianDuration(ctl)}
		med[st] = m
		cpu := fmt.Sprintf("%d / %d / %d", medianDuration(ctl).Microseconds(), medianDuration(eng).Microseconds(),
			medianDuration(cli).Microseconds())
		fmt.Fprintf(w, "%-31s %10.0f %10.3f ms %8.2f s %27s   %s\n", st.name(), m.tasksPerSec,
			float64(m.rtt.Microseconds())/1000, m.register.Seconds(), cpu, strings.Join(each, " "))
	}
	for _, db := range []string{"dict", "sqlite"} {
		ours, okO := med[setup{clienttest.Go, db}]
		py, okP := med[setup{clienttest.PyKind, db}]
		if okO && okP && py.tasksPerSec > 0 && ours.rtt > 0 {
			label := "ratio ours/Python"
			if db == "sqlite" {
				label += " (both SQLiteDB)"
			}
			fmt.Fprintf(w, "\n%s: throughput %.1fx, round trip %.1fx faster", label, ours.tasksPerSec/py.tasksPerSec,
				py.rtt.Seconds()/ours.rtt.Seconds())
			if ours.cpuController > 0 {
				fmt.Fprintf(w, ", controller CPU per task %.1fx less", py.cpuController.Seconds()/ours.cpuController.Seconds())
			}
		}
	}
	mem, okM := med[setup{clienttest.Go, "dict"}]
	disk, okD := med[setup{clienttest.Go, "sqlite"}]
	if okM && okD && mem.tasksPerSec > 0 {
		fmt.Fprintf(w, "\nours with SQLiteDB: %.0f%% of its in-memory throughput (cost %.0f%%; goal: under 25%%)",
			100*disk.tasksPerSec/mem.tasksPerSec, 100*(1-disk.tasksPerSec/mem.tasksPerSec))
	}
	fmt.Fprintln(w)
}
