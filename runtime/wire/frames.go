package wire

import (
	"bytes"
	"errors"
	"fmt"
)

// Delimiter separates the routing identities from the signed part of a message.
const Delimiter = "<IDS|MSG>"

var delimiter = []byte(Delimiter)

// Errors returned for messages that cannot be accepted. Receivers drop such messages.
var (
	ErrNoDelimiter  = errors.New("no <IDS|MSG> delimiter")
	ErrTruncated    = errors.New("fewer than 5 frames after the delimiter")
	ErrUnsigned     = errors.New("unsigned message")
	ErrBadSignature = errors.New("invalid signature")
	ErrDuplicate    = errors.New("duplicate signature")
)

// Raw is a message split into its parts, with the JSON parts kept as bytes so that a relay
// can forward them unchanged and a reader can decode only what it needs.
type Raw struct {
	Idents    [][]byte
	Signature []byte
	Header    []byte
	Parent    []byte
	Metadata  []byte
	Content   []byte
	Buffers   [][]byte
}

// Split finds the delimiter and splits frames into a Raw. It does not check the signature.
// The returned Raw shares the frames' memory.
func Split(frames [][]byte) (*Raw, error) {
	i := DelimiterIndex(frames)
	if i < 0 {
		return nil, ErrNoDelimiter
	}
	rest := frames[i+1:]
	if len(rest) < 5 {
		return nil, fmt.Errorf("%w (%d)", ErrTruncated, len(rest))
	}
	return &Raw{
		Idents:    frames[:i],
		Signature: rest[0],
		Header:    rest[1],
		Parent:    rest[2],
		Metadata:  rest[3],
		Content:   rest[4],
		Buffers:   rest[5:],
	}, nil
}

// DelimiterIndex returns the index of the first delimiter frame, or -1.
func DelimiterIndex(frames [][]byte) int {
	for i, f := range frames {
		if bytes.Equal(f, delimiter) {
			return i
		}
	}
	return -1
}

// Frames reassembles the message: identities, delimiter, signature, the four JSON parts,
// buffers.
func (r *Raw) Frames() [][]byte {
	out := make([][]byte, 0, len(r.Idents)+6+len(r.Buffers))
	out = append(out, r.Idents...)
	out = append(out, delimiter, r.Signature, r.Header, r.Parent, r.Metadata, r.Content)
	return append(out, r.Buffers...)
}
