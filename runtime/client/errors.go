package client

import (
	"errors"
	"fmt"
	"strings"
)

// Classes of failure. Test with errors.Is; a *RemoteError matches the class of its ename.
var (
	// ErrClosed: the client was closed (by Close, or because the controller shut down).
	ErrClosed = errors.New("client closed")
	// ErrControllerShutdown: the controller announced its shutdown; the client closed itself.
	ErrControllerShutdown = errors.New("controller shut down")
	// ErrNoEngines: a request for "all engines" found none registered.
	ErrNoEngines = errors.New("no engines registered")
	// ErrNoSuchEngine: a target id is not (or no longer) registered.
	ErrNoSuchEngine = errors.New("no such engine")
	// ErrAborted: the engine aborted the request (abort_request) without running it.
	ErrAborted = errors.New("request aborted")
	// ErrEngineDied: the engine running the request unregistered (EngineError).
	ErrEngineDied = errors.New("engine died")
	// ErrDependency: a task's dependencies can never be met (ImpossibleDependency,
	// InvalidDependency).
	ErrDependency = errors.New("unmet dependency")
	// ErrTaskTimeout: a task's dependencies were not met within its timeout.
	ErrTaskTimeout = errors.New("task timed out")
)

// class maps ipyparallel's exception names to the error classes above.
func class(ename string) error {
	switch ename {
	case "EngineError":
		return ErrEngineDied
	case "ImpossibleDependency", "InvalidDependency":
		return ErrDependency
	case "TaskTimeout", "DependencyTimeout":
		return ErrTaskTimeout
	case "TaskAborted":
		return ErrAborted
	}
	return nil
}

// RemoteError is an error reply: an exception raised by the code on a Python engine, a
// failed command on a Go engine, or a failure made by the controller (its scheduler or
// relays), like ipyparallel's RemoteError.
type RemoteError struct {
	EngineID  int    // engine that reported it; -1 when the controller or this client made it
	Name      string // ename: exception class, e.g. "ZeroDivisionError", "ImpossibleDependency"
	Value     string // evalue: the exception message
	Traceback []string
}

func (e *RemoteError) Error() string {
	var b strings.Builder
	if e.EngineID >= 0 {
		fmt.Fprintf(&b, "engine %d: ", e.EngineID)
	}
	b.WriteString(e.Name)
	if e.Value != "" {
		b.WriteString(": ")
		b.WriteString(e.Value)
	}
	return b.String()
}

// Is reports whether the exception belongs to one of the package's error classes.
func (e *RemoteError) Is(target error) bool {
	c := class(e.Name)
	return c != nil && c == target
}

// FromController reports whether the controller (not an engine) produced the error.
func (e *RemoteError) FromController() bool { return e.EngineID < 0 }
