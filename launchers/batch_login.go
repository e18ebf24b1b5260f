package launchers

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// on names the login host in messages ("" on this machine).
func on(r Runner) string {
	if r.Host() == "" {
		return ""
	}
	return " on login host " + r.Host()
}

// stage copies the script's Stage files (the engines' connection files) to the same paths on
// the login host (by SFTP), for login nodes that do not share this file system (where they
// do, the files are rewritten in place with the same content). Files that do not exist here
// are left out: a controller writes its own, and engines started with explicit connection
// info need none.
func (b *batch) stage(ctx context.Context, r Runner, s *Script) error {
	if r.Host() == "" {
		return nil
	}
	for _, f := range s.Stage {
		if _, err := os.Stat(f); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := r.Send(ctx, f, f, 0o600); err != nil {
			return fmt.Errorf("%s: stage connection file %s%s: %w", b.row.Title, f, on(r), err)
		}
	}
	return nil
}

// loginRunner is the runner for commands that have no handle (listing and cancelling any of
// the user's jobs): the login host of the engines' settings.
func (b *batch) loginRunner() (Runner, error) {
	o, err := b.options(Engines)
	if err != nil {
		return nil, err
	}
	return b.runners.For(o.Login()), nil
}
