// Command swarm runs N real engine protocol peers in one process (an engine swarm) against
// a controller, so that thousands of engines fit on one machine, and measures the
// controller with them: registration storm, memory and idle heartbeat CPU per engine, a
// broadcast execute to all, and load-balanced tasks over all. Each swarm engine is the Go
// engine library with its own registration, heartbeat, shell, control and iopub
// connections; only its execute requests are answered in process (`echo WORDS` prints the
// words) instead of by a shell, so the controller cannot tell it from ipengine.
//
//	go run ./bench/swarm -n N --file ipcontroller-engine.json [--tasks 10000]
//	go run ./bench/swarm --table 100,1000 [--controllers go,python] [--runs 3]
//
// The first form joins a running controller (its client file is found beside the engine
// file) and prints `registered N/N in S s` as soon as that is so, then the other figures.
// The second starts our controller and ipyparallel's for each N and prints a table of both.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ipcluster/internal/fdlimit"
	"ipcluster/profiles"
	"ipcluster/runtime/client/clienttest"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "swarm:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("swarm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 100, "engines in the swarm")
	file := fs.String("file", "", "the controller's engine connection file (ipcontroller[-<cluster>]-engine.json)")
	clientFile := fs.String("client", "", "its client connection file (default: beside --file)")
	pid := fs.Int("pid", 0, "the controller's process id, for its memory and CPU (default: from the profile's pid file)")
	tasks := fs.Int("tasks", 10000, "load-balanced tasks over all engines (0: none)")
	regTimeout := fs.Duration("timeout", 60*time.Second, "deadline for every engine to register")
	idle := fs.Duration("idle", 10*time.Second, "window for the controller's idle CPU")
	table := fs.String("table", "", "comma-separated engine counts: start each controller for each and print a table")
	controllers := fs.String("controllers", "go,python", "with --table: controllers to measure (go, python)")
	runs := fs.Int("runs", 1, "with --table: runs per controller and size; the table shows medians")
	verbose := fs.Bool("v", false, "log the engines' warnings")
	cpuProfile := fs.String("cpuprofile", "", "write this process's (the swarm's) CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelError
	if *verbose {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
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
	limit, err := fdlimit.Raise()
	if err != nil {
		return err
	}
	p := plan{n: *n, regTimeout: *regTimeout, idle: *idle, tasks: *tasks, log: log}
	if *table != "" {
		sizes, err := parseSizes(*table)
		if err != nil {
			return err
		}
		kinds, err := clienttest.ParseKinds(*controllers)
		if err != nil {
			return err
		}
		if *runs < 1 {
			return errors.New("--runs must be positive")
		}
		return runTable(ctx, tableConfig{sizes: sizes, kinds: kinds, runs: *runs, plan: p, limit: limit}, stdout)
	}
	if *file == "" {
		return errors.New("--file ENGINE_JSON is needed (or --table SIZES)")
	}
	if *n < 1 {
		return errors.New("-n must be positive")
	}
	if err := limit.Check(*n, "this swarm"); err != nil {
		return err
	}
	var info profiles.EngineInfo
	if err := profiles.ReadJSON(*file, &info); err != nil {
		return fmt.Errorf("read the engine connection file: %w", err)
	}
	if *clientFile == "" {
		*clientFile = besideEngineFile(*file)
	}
	if p.pid = *pid; p.pid == 0 {
		p.pid = pidFromProfile(*file)
	}
	f, err := measure(ctx, info, *clientFile, p, stdout)
	if err != nil {
		return err
	}
	printGoals(stdout, f)
	if !f.done {
		return errDidNotFinish
	}
	return nil
}

// besideEngineFile is the client connection file written with an engine file.
func besideEngineFile(engineFile string) string {
	dir, base := filepath.Split(engineFile)
	return filepath.Join(dir, strings.TrimSuffix(base, "-engine.json")+"-client.json")
}

// pidFromProfile reads <profile>/pid/ipcontroller[-<cluster>].pid for the engine file
// <profile>/security/ipcontroller[-<cluster>]-engine.json; 0 when there is none.
func pidFromProfile(engineFile string) int {
	abs, err := filepath.Abs(engineFile)
	if err != nil {
		return 0
	}
	name := strings.TrimSuffix(filepath.Base(abs), "-engine.json") + ".pid"
	data, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(abs)), "pid", name))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid
}

func parseSizes(list string) ([]int, error) {
	var sizes []int
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--table: %q is not an engine count", s)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// The goals for 10,000 engines.
const (
	goalEngines     = 10000
	goalRegister    = 30 * time.Second
	goalIdleCPU     = 0.10
	goalBytesEngine = 50 * 1024
	goalBroadcast   = 5 * time.Second
)

// printGoals states the goal figures beside what was measured.
func printGoals(w io.Writer, f figures) {
	fmt.Fprintf(w, "goals (for %d engines): all registered within %s, none lost; idle CPU under %.0f%% of a core; under %d KB per engine; broadcast answered within %s\n",
		goalEngines, goalRegister, 100*goalIdleCPU, goalBytesEngine/1024, goalBroadcast)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Fprintf(w, "  at %d engines: registration %s, idle CPU %s, memory %s, broadcast %s\n", f.n,
		verdict(f.registered == f.n && f.lost == 0 && f.register <= goalRegister),
		verdict(f.done && f.idleCPU < goalIdleCPU), verdict(f.done && f.rssPerEngine < goalBytesEngine),
		verdict(f.done && f.bcastFailed == 0 && f.broadcast <= goalBroadcast))
}
