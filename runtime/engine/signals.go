package engine

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// signalNames are the POSIX signals a client may name in a signal_request (ipyparallel's
// Client.send_signal passes an int or a name such as "SIGINT").
var signalNames = map[string]syscall.Signal{
	"SIGHUP": syscall.SIGHUP, "SIGINT": syscall.SIGINT, "SIGQUIT": syscall.SIGQUIT, "SIGILL": syscall.SIGILL,
	"SIGTRAP": syscall.SIGTRAP, "SIGABRT": syscall.SIGABRT, "SIGBUS": syscall.SIGBUS, "SIGFPE": syscall.SIGFPE,
	"SIGKILL": syscall.SIGKILL, "SIGUSR1": syscall.SIGUSR1, "SIGSEGV": syscall.SIGSEGV, "SIGUSR2": syscall.SIGUSR2,
	"SIGPIPE": syscall.SIGPIPE, "SIGALRM": syscall.SIGALRM, "SIGTERM": syscall.SIGTERM, "SIGCHLD": syscall.SIGCHLD,
	"SIGCONT": syscall.SIGCONT, "SIGSTOP": syscall.SIGSTOP, "SIGTSTP": syscall.SIGTSTP, "SIGTTIN": syscall.SIGTTIN,
	"SIGTTOU": syscall.SIGTTOU, "SIGURG": syscall.SIGURG, "SIGXCPU": syscall.SIGXCPU, "SIGXFSZ": syscall.SIGXFSZ,
	"SIGVTALRM": syscall.SIGVTALRM, "SIGPROF": syscall.SIGPROF, "SIGWINCH": syscall.SIGWINCH, "SIGIO": syscall.SIGIO,
	"SIGPWR": syscall.SIGPWR, "SIGSYS": syscall.SIGSYS,
}

// parseSignal reads the "sig" of a signal_request: a number (JSON numbers decode as
// float64), a numeric string, or a name with or without the SIG prefix.
func parseSignal(v any) (syscall.Signal, error) {
	switch s := v.(type) {
	case float64:
		if s == float64(int(s)) && s > 0 && s < 65 {
			return syscall.Signal(int(s)), nil
		}
	case string:
		t := strings.ToUpper(strings.TrimSpace(s))
		if n, err := strconv.Atoi(t); err == nil && n > 0 && n < 65 {
			return syscall.Signal(n), nil
		}
		if !strings.HasPrefix(t, "SIG") {
			t = "SIG" + t
		}
		if sig, ok := signalNames[t]; ok {
			return sig, nil
		}
	}
	return 0, fmt.Errorf("unknown signal %v (use a number or a name such as SIGINT)", v)
}

// signalName renders a signal as its name (SIGINT), or "signal N".
func signalName(sig syscall.Signal) string {
	for name, s := range signalNames {
		if s == sig {
			return name
		}
	}
	return "signal " + strconv.Itoa(int(sig))
}
