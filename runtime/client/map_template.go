package client

import (
	"strconv"
	"strings"

	"ipcluster/internal/shellquote"
)

// Placeholders of a map command, in GNU parallel's spelling.
const (
	placeInput  = "{}"  // the input, shell-quoted
	placeSeq    = "{#}" // its sequence number, from 1
	placeEngine = "{%}" // the id of the engine that runs it
)

// engineIDExpansion is what {%} becomes: the engine's id is only known on the engine (the
// scheduler picks it), and both kinds of engine put it in the command's environment (the
// Go engine always; the Python runner of map from the kernel's engine_id).
const engineIDExpansion = `"${IPP_ENGINE_ID}"`

// CommandTemplate turns one input into a shell command line.
//
// Made from one string it is a shell command line: {} becomes the input quoted for
// /bin/sh, {#} the sequence number and {%} the engine id. Made from several words it is an
// argument vector: every word is quoted for the shell after substitution, so that an input
// is always exactly (part of) one argument, never split or interpreted. Either way, a
// template without any placeholder gets " {}" appended, as GNU parallel does.
type CommandTemplate struct {
	words  []string
	asLine bool
}

// NewCommandTemplate makes a template from the words of a command (see CommandTemplate).
func NewCommandTemplate(words ...string) CommandTemplate {
	t := CommandTemplate{words: append([]string(nil), words...), asLine: len(words) == 1}
	if !t.hasPlaceholder() {
		if t.asLine {
			t.words[0] += " " + placeInput
		} else {
			t.words = append(t.words, placeInput)
		}
	}
	return t
}

func (t CommandTemplate) hasPlaceholder() bool {
	for _, w := range t.words {
		if strings.Contains(w, placeInput) || strings.Contains(w, placeSeq) || strings.Contains(w, placeEngine) {
			return true
		}
	}
	return false
}

// Empty reports whether the template has no command.
func (t CommandTemplate) Empty() bool {
	return len(t.words) == 0 || len(t.words) == 1 && strings.TrimSpace(strings.ReplaceAll(t.words[0], placeInput, "")) == ""
}

// Expand is the shell command line for input number seq.
func (t CommandTemplate) Expand(input string, seq int) string {
	placeholder := func(p string) string {
		switch p {
		case placeInput:
			return shellquote.Quote(input)
		case placeSeq:
			return strconv.Itoa(seq)
		}
		return engineIDExpansion
	}
	if t.asLine {
		return substitute(t.words[0], placeholder, func(s string) string { return s })
	}
	quoted := make([]string, len(t.words))
	for i, w := range t.words {
		q := substitute(w, placeholder, func(s string) string {
			if s == "" {
				return ""
			}
			return shellquote.Quote(s)
		})
		if q == "" {
			q = "''"
		}
		quoted[i] = q
	}
	return strings.Join(quoted, " ")
}

// substitute replaces each placeholder in s by value(placeholder) and the text between
// them by literal(text).
func substitute(s string, value func(string) string, literal func(string) string) string {
	var b strings.Builder
	for s != "" {
		at, which := -1, ""
		for _, p := range []string{placeInput, placeSeq, placeEngine} {
			if i := strings.Index(s, p); i >= 0 && (at < 0 || i < at) {
				at, which = i, p
			}
		}
		if at < 0 {
			b.WriteString(literal(s))
			break
		}
		b.WriteString(literal(s[:at]))
		b.WriteString(value(which))
		s = s[at+len(which):]
	}
	return b.String()
}
