package shellquote

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

var words = []string{
	"", "plain", "a b", "it's", `"double"`, `back\slash`, "$HOME", "`date`", "semi;colon",
	"new\nline", "tab\there", "*?[x]", "~user", "héllo wörld", "日本語", "-n", "'", "''", "a'b'c",
	"!bang", "#hash", "x=1", "a&&b|c>d<e", "{a,b}",
}

// TestRoundTripThroughSh hands quoted words to a real sh and checks that it sees exactly the
// original words, one argument each.
func TestRoundTripThroughSh(t *testing.T) {
	line := Join(words)
	out, err := exec.Command("sh", "-c", "set -- "+line+`; for a in "$@"; do printf '%s\0' "$a"; done`).Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", line, err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !slices.Equal(got, words) {
		t.Fatalf("sh saw %q\nwant %q\nline %s", got, words, line)
	}
}

// TestQuoteLikeShlex pins the exact text, which must match Python's shlex.quote because
// generated batch scripts are compared with ipyparallel's.
func TestQuoteLikeShlex(t *testing.T) {
	for in, want := range map[string]string{
		"":             "''",
		"plain-1.0/x":  "plain-1.0/x",
		"a b":          "'a b'",
		"it's":         `'it'"'"'s'`,
		"héllo":        "'héllo'",
		"user@host:22": "user@host:22",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
	if got, want := Join([]string{"echo", "a b", ""}), "echo 'a b' ''"; got != want {
		t.Errorf("Join = %s, want %s", got, want)
	}
	if got := Join(nil); got != "" {
		t.Errorf("Join(nil) = %q, want empty", got)
	}
}
