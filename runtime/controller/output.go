package controller

// Output is a task's stdout or stderr as its record keeps it. Stream messages append to it
// in place (amortized linear, where += on a string copies everything each time), and its
// length counts toward the record store's size limit.
type Output struct {
	b []byte
}

// Append adds text to the end.
func (o *Output) Append(text string) { o.b = append(o.b, text...) }

// Prepend puts earlier output in front (a record merging what a stub already held).
func (o *Output) Prepend(earlier Output) {
	if len(earlier.b) == 0 {
		return
	}
	o.b = append(append(make([]byte, 0, len(earlier.b)+len(o.b)), earlier.b...), o.b...)
}

// Len is the size in bytes.
func (o Output) Len() int { return len(o.b) }

// String is a copy of the text.
func (o Output) String() string { return string(o.b) }
