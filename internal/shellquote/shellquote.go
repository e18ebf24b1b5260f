// Package shellquote quotes words for a POSIX shell (sh, bash, dash), the way Python's
// shlex.quote and shlex.join do, so that generated scripts and command lines match
// ipyparallel's byte for byte. It is the project's only shell quoter.
package shellquote

import "strings"

// Quote returns s as one shell word. Words made only of letters, digits and @%+=:,./_-
// are returned as they are; anything else (including the empty string) is put in single
// quotes, each ' inside written as '"'"'.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, unsafe) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// Join quotes every element of argv and joins them with single spaces into one command line.
func Join(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

// unsafe reports whether r needs quoting; the safe set is shlex's.
func unsafe(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r))
}
