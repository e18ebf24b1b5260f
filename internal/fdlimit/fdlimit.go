// Package fdlimit raises the open-file limit (RLIMIT_NOFILE) of this process as far as it
// may go, and says how many engines that leaves room for. Every engine holds eight
// connections to its controller (registration, shell on mux, task and broadcast, control,
// iopub, heartbeat ping and pong), so 10,000 engines need 80,000 descriptors on the
// controller's side and as many on the side that runs them; Linux defaults to a soft limit
// of 1024.
package fdlimit

import (
	"fmt"
	"syscall"
)

// PerEngine is how many connections, so file descriptors, one engine holds to the
// controller (and the controller to it).
const PerEngine = 8

// Reserve is what a process keeps for everything but engine connections: listeners,
// clients, log and connection files.
const Reserve = 64

// Limit is the open-file limit after Raise.
type Limit struct {
	Soft, Hard uint64 // the soft limit is the one enforced
	Raised     bool   // Raise changed the soft limit
}

// Engines is how many engines fit within the soft limit.
func (l Limit) Engines() int {
	if l.Soft <= Reserve {
		return 0
	}
	return int((l.Soft - Reserve) / PerEngine)
}

// Raise lifts the soft open-file limit to the hard one (an unprivileged process may, and
// the hard limit is what the administrator allows), and returns the limit now in force.
func Raise() (Limit, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return Limit{}, fmt.Errorf("read the open-file limit: %w", err)
	}
	l := Limit{Soft: rl.Cur, Hard: rl.Max}
	if rl.Cur >= rl.Max {
		return l, nil
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return l, fmt.Errorf("raise the open-file limit from %d to the hard limit %d: %w", l.Soft, l.Hard, err)
	}
	l.Soft, l.Raised = rl.Max, true
	return l, nil
}

// Need is the open-file limit n engines' connections need (with the Reserve).
func Need(n int) uint64 { return uint64(n)*PerEngine + Reserve }

// Check returns nil when the limit fits n engines, else an error saying how many fit and
// what to do; what names the process ("this swarm", "the controller").
func (l Limit) Check(n int, what string) error {
	if need := Need(n); l.Soft < need {
		return fmt.Errorf("%s needs about %d open files for %d engines (%d connections each) but may open %d (hard limit %d, `ulimit -Hn`): "+
			"raise the hard limit (ulimit -Hn, /etc/security/limits.conf, LimitNOFILE= in systemd), or use at most %d engines here",
			what, need, n, PerEngine, l.Soft, l.Hard, l.Engines())
	}
	return nil
}
