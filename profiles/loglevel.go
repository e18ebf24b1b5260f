package profiles

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// LevelCritical is Python's CRITICAL, above slog's ERROR.
const LevelCritical = slog.LevelError + 4

// ParseLogLevel reads a --log-level value as ipyparallel's tools take it: a Python logging
// level number (10-50) or name.
func ParseLogLevel(v string) (slog.Level, error) {
	if n, err := strconv.Atoi(v); err == nil {
		switch {
		case n <= 10:
			return slog.LevelDebug, nil
		case n <= 20:
			return slog.LevelInfo, nil
		case n <= 30:
			return slog.LevelWarn, nil
		case n <= 40:
			return slog.LevelError, nil
		}
		return LevelCritical, nil
	}
	switch strings.ToUpper(v) {
	case "DEBUG":
		return slog.LevelDebug, nil
	case "INFO":
		return slog.LevelInfo, nil
	case "WARN", "WARNING":
		return slog.LevelWarn, nil
	case "ERROR":
		return slog.LevelError, nil
	case "CRITICAL", "FATAL":
		return LevelCritical, nil
	}
	return 0, fmt.Errorf("%q is not a level (DEBUG, INFO, WARN, ERROR, CRITICAL or 10-50)", v)
}
