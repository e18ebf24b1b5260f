package remote

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pkg/sftp"
)

// sftpClient opens (once) the SFTP subsystem on the connection.
func (c *Client) sftpClient() (*sftp.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sftp != nil {
		return c.sftp, nil
	}
	s, err := sftp.NewClient(c.ssh)
	if err != nil {
		return nil, fmt.Errorf("ssh %s: start sftp: %w", c.Target.Name, err)
	}
	c.sftp = s
	return s, nil
}

// resetSFTP drops an SFTP client that timed out, so that a stuck call unblocks.
func (c *Client) resetSFTP(s *sftp.Client) {
	c.mu.Lock()
	if c.sftp == s {
		c.sftp = nil
	}
	c.mu.Unlock()
	s.Close()
}

// withSFTP runs op within ctx.
func (c *Client) withSFTP(ctx context.Context, what string, op func(*sftp.Client) error) error {
	s, err := c.sftpClient()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- op(s) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("ssh %s: %s: %w", c.Target.Name, what, err)
		}
		return nil
	case <-ctx.Done():
		c.resetSFTP(s)
		return fmt.Errorf("ssh %s: %s: %w", c.Target.Name, what, context.Cause(ctx))
	}
}

// MkdirAll makes a remote directory and its parents, and sets its mode. Relative paths are
// relative to the remote home.
func (c *Client) MkdirAll(ctx context.Context, dir string, mode os.FileMode) error {
	return c.withSFTP(ctx, "mkdir "+dir, func(s *sftp.Client) error {
		if err := s.MkdirAll(dir); err != nil {
			return err
		}
		return s.Chmod(dir, mode)
	})
}

// Put copies a local file to a remote path with the given mode, making the remote directory
// (mode dirMode) first. The copy is written beside the target and renamed over it, so a
// reader never sees half a file (and copying a file onto itself leaves it intact).
func (c *Client) Put(ctx context.Context, local, remote string, mode, dirMode os.FileMode) error {
	data, err := os.ReadFile(local)
	if err != nil {
		return fmt.Errorf("ssh %s: send %s: %w", c.Target.Name, local, err)
	}
	return c.withSFTP(ctx, "send "+local+" to "+remote, func(s *sftp.Client) error {
		dir := path.Dir(remote)
		if err := s.MkdirAll(dir); err != nil {
			return err
		}
		if err := s.Chmod(dir, dirMode); err != nil {
			return err
		}
		tmp := remote + ".tmp-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		f, err := s.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_EXCL)
		if err != nil {
			return err
		}
		if err := f.Chmod(mode); err != nil {
			f.Close()
			s.Remove(tmp)
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			s.Remove(tmp)
			return err
		}
		if err := f.Close(); err != nil {
			s.Remove(tmp)
			return err
		}
		if err := s.PosixRename(tmp, remote); err != nil {
			s.Remove(tmp)
			return err
		}
		return nil
	})
}

// Get copies a remote file to a local path with the given mode (atomically, as Put).
func (c *Client) Get(ctx context.Context, remote, local string, mode os.FileMode) error {
	return c.withSFTP(ctx, "fetch "+remote, func(s *sftp.Client) error {
		f, err := s.Open(remote)
		if err != nil {
			return err
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		tmp, err := os.CreateTemp(filepath.Dir(local), ".fetch-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		if err := tmp.Chmod(mode); err != nil {
			tmp.Close()
			return err
		}
		if _, err := tmp.Write(data); err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		return os.Rename(tmp.Name(), local)
	})
}

// Stat reports a remote file's mode, or an error wrapping os.ErrNotExist.
func (c *Client) Stat(ctx context.Context, remote string) (os.FileInfo, error) {
	var fi os.FileInfo
	err := c.withSFTP(ctx, "stat "+remote, func(s *sftp.Client) error {
		var err error
		fi, err = s.Stat(remote)
		return err
	})
	return fi, err
}
