package transport

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Endpoints, parsed alike by both backends so that they accept and refuse the same strings:
// tcp://host:port, and ipc://path (a unix-domain socket file).
//
// ipyparallel names an ipc endpoint by its connection file's interface plus ":" plus a
// number (its Client and engines connect to "ipc://<prefix>:<port>"), so Bind("ipc", prefix,
// n) listens on the file "<prefix>:<n>" and returns n.

// endpoint is a parsed tcp:// or ipc:// address.
type endpoint struct {
	transport string // "tcp" or "ipc"
	host      string // tcp: the host ("" for all interfaces)
	port      string // tcp: the port, maybe "*"
	path      string // ipc: the socket file
}

func parseEndpoint(ep string) (endpoint, error) {
	if path, ok := strings.CutPrefix(ep, "ipc://"); ok {
		if path == "" {
			return endpoint{}, fmt.Errorf("endpoint %s: no socket file path", ep)
		}
		return endpoint{transport: "ipc", path: path}, nil
	}
	rest, ok := strings.CutPrefix(ep, "tcp://")
	if !ok {
		return endpoint{}, fmt.Errorf("endpoint %s: only tcp:// and ipc:// are supported", ep)
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return endpoint{}, fmt.Errorf("endpoint %s: no port", ep)
	}
	host, port := strings.Trim(rest[:i], "[]"), rest[i+1:]
	if host == "*" {
		host = ""
	}
	return endpoint{transport: "tcp", host: host, port: port}, nil
}

// maxIPCPath is the longest socket file path Linux accepts (sun_path less its NUL).
const maxIPCPath = 107

// ipcBindPath is the socket file of Bind("ipc", prefix, port) and its number: the port
// given, or for 0 the smallest number whose file does not exist yet.
func ipcBindPath(prefix string, port int) (string, int, error) {
	if prefix == "" {
		return "", 0, errors.New("bind ipc: no path prefix (set the controller's ip to a path such as /tmp/ipp/sock)")
	}
	n := port
	if n <= 0 {
		for n = 1; ; n++ {
			if _, err := os.Lstat(ipcPath(prefix, n)); errors.Is(err, os.ErrNotExist) {
				break
			}
		}
	}
	path := ipcPath(prefix, n)
	if len(path) > maxIPCPath {
		return "", 0, fmt.Errorf("bind ipc://%s: the path is longer than %d bytes, the limit of a unix socket; choose a shorter one", path, maxIPCPath)
	}
	return path, n, nil
}

func ipcPath(prefix string, n int) string { return prefix + ":" + strconv.Itoa(n) }
