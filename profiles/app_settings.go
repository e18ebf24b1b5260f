package profiles

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"ipcluster/traitconfig"
)

// AppSettings are the options every ipyparallel application has, under traitlets' names:
// where it runs and how it logs. Programs decode them with their own Classes, mapping
// BaseParallelApplication and Application to their application's chain.
type AppSettings struct {
	WorkDir   string   `config:"work_dir" class:"BaseParallelApplication" help:"directory to work in (default: the current directory)"`
	LogLevel  LogLevel `config:"log_level" class:"Application" type:"int or str" help:"log level: 10/DEBUG, 20/INFO, 30/WARN, 40/ERROR, 50/CRITICAL"`
	LogToFile bool     `config:"log_to_file" class:"BaseParallelApplication" help:"log to <profile_dir>/log/<program>-<cluster_id>-<pid>.log instead of stderr"`
	CleanLogs bool     `config:"clean_logs" class:"BaseParallelApplication" help:"accepted for compatibility (ignored)"`
	LogURL    string   `config:"log_url" class:"BaseParallelApplication" help:"accepted for compatibility (ignored)"`
}

// DefaultAppSettings are ipyparallel's defaults (INFO, stderr, the current directory).
func DefaultAppSettings() AppSettings { return AppSettings{LogLevel: 20} }

// AbsWorkDir is WorkDir with ~ expanded and made absolute ("" stays "").
func (a AppSettings) AbsWorkDir() (string, error) {
	dir := a.WorkDir
	if dir == "" {
		return "", nil
	}
	if dir == "~" || strings.HasPrefix(dir, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("work_dir %s: %w", dir, err)
		}
		dir = filepath.Join(home, dir[1:])
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("work_dir %s: %w", dir, err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return "", fmt.Errorf("work_dir %s is not a directory", abs)
	}
	return abs, nil
}

// Logger makes the program's logger: text to stderr, or to a file in the profile's log
// directory with LogToFile. The returned function closes that file.
func (a AppSettings) Logger(profileDir, program, clusterID string, stderr io.Writer) (*slog.Logger, func(), error) {
	out, closeFn := stderr, func() {}
	if a.LogToFile {
		dir := Dir(profileDir).Log()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, closeFn, fmt.Errorf("log to file: %w", err)
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%s-%d.log", program, clusterID, os.Getpid())))
		if err != nil {
			return nil, closeFn, fmt.Errorf("log to file: %w", err)
		}
		out, closeFn = f, func() { f.Close() }
	}
	return slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: a.LogLevel.Slog()})), closeFn, nil
}

// LogLevel is a Python logging level (10 DEBUG ... 50 CRITICAL), read from a number or a
// name as traitlets' log_level is.
type LogLevel int

// DecodeConfig reads 10-50 or DEBUG, INFO, WARN, ERROR, CRITICAL.
func (l *LogLevel) DecodeConfig(v any) error {
	var s string
	switch v := v.(type) {
	case int64:
		s = fmt.Sprint(v)
	case string:
		s = v
	default:
		return fmt.Errorf("want a level such as 20 or 'INFO', got %s", traitconfig.Literal(v))
	}
	lvl, err := ParseLogLevel(s)
	if err != nil {
		return err
	}
	*l = LogLevel(map[slog.Level]int{slog.LevelDebug: 10, slog.LevelInfo: 20, slog.LevelWarn: 30, slog.LevelError: 40, LevelCritical: 50}[lvl])
	return nil
}

// Slog is the level as slog has it.
func (l LogLevel) Slog() slog.Level {
	lvl, err := ParseLogLevel(fmt.Sprint(int(l)))
	if err != nil || l == 0 {
		return slog.LevelInfo
	}
	return lvl
}
