package launchers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"ipcluster/internal/shellquote"
	"ipcluster/remote"
)

// sshRunner runs commands and reaches files on a login host over the pool's connection.
type sshRunner struct {
	host string
	pool *remote.Pool
}

func (r sshRunner) Host() string { return r.host }

func (r sshRunner) client(ctx context.Context) (*remote.Client, error) {
	return r.pool.Get(ctx, r.host)
}

func (r sshRunner) Run(ctx context.Context, argv []string, env map[string]string, stdin []byte) (string, error) {
	if len(argv) == 0 || argv[0] == "" {
		return "", errors.New("no command configured")
	}
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	c, err := r.client(ctx)
	if err != nil {
		return "", err
	}
	line := shellquote.Join(argv)
	if len(env) > 0 {
		keys := make([]string, 0, len(env))
		for k := range env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		vars := []string{"env"}
		for _, k := range keys {
			vars = append(vars, k+"="+env[k])
		}
		line = shellquote.Join(vars) + " " + line
	}
	var in io.Reader
	if stdin != nil {
		in = bytes.NewReader(stdin)
	}
	res, err := c.Run(ctx, line, in)
	out := string(res.Stdout) + string(res.Stderr)
	if err != nil {
		return out, fmt.Errorf("`%s` on %s: %w", strings.Join(argv, " "), r.host, err)
	}
	if res.Code != 0 {
		return out, fmt.Errorf("`%s` failed on %s (exit status %d):\n%s", strings.Join(argv, " "), r.host, res.Code, indent(out))
	}
	return out, nil
}

func (r sshRunner) WriteFile(ctx context.Context, p string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp("", "ipcluster-stage-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return r.Send(ctx, tmp.Name(), p, mode)
}

func (r sshRunner) Send(ctx context.Context, local, p string, mode os.FileMode) error {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	c, err := r.client(ctx)
	if err != nil {
		return err
	}
	if fi, err := c.Stat(ctx, path.Dir(p)); err == nil && fi.IsDir() {
		return c.Put(ctx, local, p, mode, fi.Mode().Perm()) // an existing directory keeps its mode
	}
	return c.Put(ctx, local, p, mode, 0o700)
}

func (r sshRunner) ReadFile(ctx context.Context, p string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	c, err := r.client(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := c.Stat(ctx, p); err != nil {
		return nil, err // wraps os.ErrNotExist for a missing file
	}
	res, err := c.Run(ctx, "cat "+shellquote.Quote(p), nil)
	if err != nil {
		return nil, err
	}
	if res.Code != 0 {
		return nil, fmt.Errorf("ssh %s: read %s: %s", r.host, p, strings.TrimSpace(string(res.Stderr)))
	}
	return res.Stdout, nil
}

func (r sshRunner) Remove(ctx context.Context, p string) error {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	c, err := r.client(ctx)
	if err != nil {
		return err
	}
	_, err = c.Output(ctx, "rm -f "+shellquote.Quote(p))
	return err
}

func (r sshRunner) Exists(ctx context.Context, p string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	c, err := r.client(ctx)
	if err != nil {
		return false, err
	}
	_, err = c.Stat(ctx, p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
