package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"

	"ipcluster/internal/shellquote"
)

// ErrStartup: the startup command or script failed, so the engine did not register.
var ErrStartup = errors.New("startup failed")

// maxStartupOutput bounds the output a startup failure quotes (its end is kept).
const maxStartupOutput = 8 << 10

// runStartup runs c.IPEngine.startup_command, then sources startup_script, each once with
// the engine's shell in its work directory, as ipyparallel's engine runs them before any
// request. A failure (or ctx ending) is an error carrying the exit status and output.
func (e *Engine) runStartup(ctx context.Context) error {
	steps := []struct{ what, code string }{
		{"startup_command", e.cfg.StartupCommand},
		{"startup_script " + e.cfg.StartupScript, ""},
	}
	if e.cfg.StartupScript != "" {
		steps[1].code = ". " + shellquote.Quote(e.cfg.StartupScript)
	}
	for _, s := range steps {
		if strings.TrimSpace(s.code) == "" {
			continue
		}
		e.log.Info("running "+s.what, "dir", e.cfg.WorkDir)
		shell := e.cfg.Shell
		cmd := exec.CommandContext(ctx, shell[0], append(append([]string(nil), shell[1:]...), s.code)...)
		cmd.Dir, cmd.Env = e.cfg.WorkDir, e.commandEnv()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		// Its own process group, killed whole if the engine is asked to stop meanwhile.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		err := cmd.Run()
		if err == nil {
			continue
		}
		text := out.Bytes()
		if len(text) > maxStartupOutput {
			text = append([]byte("..."), text[len(text)-maxStartupOutput:]...)
		}
		status := err.Error()
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() >= 0 {
			status = fmt.Sprintf("exit status %d", exit.ExitCode())
		}
		output := ""
		if len(bytes.TrimSpace(text)) > 0 {
			output = "; its output:\n" + strings.TrimRight(string(text), "\n")
		}
		return fmt.Errorf("%w: %s (%s in %s)%s", ErrStartup, s.what, status, e.cfg.WorkDir, output)
	}
	return nil
}
