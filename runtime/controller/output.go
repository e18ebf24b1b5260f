package controller

import "strings"

// Output is a task's stdout or stderr as its record keeps it: the stream messages' texts as
// they came, so that appending copies nothing (+= on a string copies everything each time,
// and a growing buffer copies and discards it every time it grows). Its length counts toward
// the record store's size limit.
type Output struct {
	chunks []string
	n      int
}

// Append adds text to the end.
func (o *Output) Append(text string) {
	if text != "" {
		o.chunks = append(o.chunks, text)
		o.n += len(text)
	}
}

// Prepend puts earlier output in front (a record merging what a stub already held).
func (o *Output) Prepend(earlier Output) {
	if earlier.n == 0 {
		return
	}
	o.chunks = append(append(make([]string, 0, len(earlier.chunks)+len(o.chunks)), earlier.chunks...), o.chunks...)
	o.n += earlier.n
}

// Len is the size in bytes.
func (o Output) Len() int { return o.n }

// String is the whole text.
func (o Output) String() string {
	if len(o.chunks) == 1 {
		return o.chunks[0]
	}
	var b strings.Builder
	b.Grow(o.n)
	for _, c := range o.chunks {
		b.WriteString(c)
	}
	return b.String()
}
