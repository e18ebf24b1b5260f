package launchers

import "io"

// Close releases what a launcher holds (connections to its hosts), for launchers that hold
// anything (those that implement io.Closer). Call it once the launcher is no longer used.
func Close(l Launcher) error {
	if c, ok := l.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
