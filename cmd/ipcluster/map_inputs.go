package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// inputSeparator introduces inputs given on the command line, as in GNU parallel.
const inputSeparator = ":::"

// splitMapArgs separates the command template from inputs given after ":::", in either
// order: `::: a b -- cmd {}` or `-- cmd {} ::: a b`.
func splitMapArgs(args []string) (command, inputs []string, haveInputs bool, err error) {
	i := slices.Index(args, inputSeparator)
	switch {
	case i < 0:
		return args, nil, false, nil
	case i == 0:
		end := slices.Index(args, "--")
		if end < 0 {
			return nil, nil, false, fmt.Errorf("inputs after ::: need the command after --: ipcluster map ::: a b -- echo {}")
		}
		return args[end+1:], args[1:end], true, nil
	default:
		return args[:i], args[i+1:], true, nil
	}
}

// readLines reads one input per line from a file, or from stdin for "-".
func readLines(path string) ([]string, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--each-line: %w", err)
		}
		defer f.Close()
		r = f
	}
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		lines = append(lines, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--each-line %s: %w", path, err)
	}
	return lines, nil
}

// parseRange expands "A-B" or "A-B:STEP" (integers, A <= B, STEP > 0) into its numbers.
func parseRange(spec string) ([]string, error) {
	bad := fmt.Errorf("--range %q: write A-B or A-B:STEP with whole numbers, A <= B and STEP > 0 (e.g. 1-100:2)", spec)
	bounds, stepText, hasStep := strings.Cut(spec, ":")
	// A may be negative: the separating '-' is the first one after A's first character
	cut := strings.Index(bounds[min(1, len(bounds)):], "-")
	if cut < 0 {
		return nil, bad
	}
	cut += min(1, len(bounds))
	a, errA := strconv.Atoi(strings.TrimSpace(bounds[:cut]))
	b, errB := strconv.Atoi(strings.TrimSpace(bounds[cut+1:]))
	step := 1
	var errS error
	if hasStep {
		step, errS = strconv.Atoi(strings.TrimSpace(stepText))
	}
	if errA != nil || errB != nil || errS != nil || a > b || step <= 0 {
		return nil, bad
	}
	if (b-a)/step >= 100_000_000 {
		return nil, fmt.Errorf("--range %q: more than 100 million inputs", spec)
	}
	out := make([]string, 0, (b-a)/step+1)
	for n := a; n <= b; n += step {
		out = append(out, strconv.Itoa(n))
	}
	return out, nil
}
