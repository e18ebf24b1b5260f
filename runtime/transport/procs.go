package transport

import (
	"os"
	"runtime"
)

// OneProcessor runs the Go scheduler on one processor, unless the GOMAXPROCS environment
// variable says otherwise. For a program whose work is one Loop (the controller, an
// engine), more processors only make the runtime hand goroutines between threads on every
// message: in bench/gobench, one processor cut the CPU time per task of the engines by a
// quarter and of the controller by a tenth. Call it first thing in main.
func OneProcessor() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}
