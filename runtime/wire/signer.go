package wire

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// DefaultScheme is the signature scheme of ipyparallel's connection files.
const DefaultScheme = "hmac-sha256"

var hashes = map[string]func() hash.Hash{
	"md5":    md5.New,
	"sha1":   sha1.New,
	"sha224": sha256.New224,
	"sha256": sha256.New,
	"sha384": sha512.New384,
	"sha512": sha512.New,
}

// Signer computes and checks HMAC signatures. An empty key means unsigned messages, as in
// jupyter_client: the signature frame is empty and is not checked.
type Signer struct {
	key  []byte
	pool sync.Pool // of *mac (HMACs are costly to set up; reuse them)
}

// mac is a reusable HMAC with room for its sum (a sum buffer on the stack would escape
// through the hash.Hash interface).
type mac struct {
	h   hash.Hash
	sum [64]byte
}

// NewSigner makes a Signer for key and a scheme named as in connection files
// ("hmac-sha256").
func NewSigner(key []byte, scheme string) (*Signer, error) {
	if scheme == "" {
		scheme = DefaultScheme
	}
	name, ok := strings.CutPrefix(scheme, "hmac-")
	newHash := hashes[name]
	if !ok || newHash == nil {
		return nil, fmt.Errorf("unsupported signature scheme %q (want hmac-sha256, hmac-sha512, hmac-sha1 or hmac-md5)", scheme)
	}
	s := &Signer{key: append([]byte(nil), key...)}
	s.pool.New = func() any { return &mac{h: hmac.New(newHash, s.key)} }
	return s, nil
}

// Enabled reports whether messages are signed.
func (s *Signer) Enabled() bool { return len(s.key) > 0 }

// Sign returns the lowercase hex HMAC of the four JSON parts, or nil when unsigned.
func (s *Signer) Sign(header, parent, metadata, content []byte) []byte {
	if !s.Enabled() {
		return []byte{}
	}
	var buf [2 * 64]byte
	return append([]byte(nil), s.sign(&buf, header, parent, metadata, content)...)
}

// sign writes the hex signature into buf (large enough for SHA-512) and returns it.
func (s *Signer) sign(buf *[2 * 64]byte, header, parent, metadata, content []byte) []byte {
	m := s.pool.Get().(*mac)
	m.h.Reset()
	m.h.Write(header)
	m.h.Write(parent)
	m.h.Write(metadata)
	m.h.Write(content)
	n := hex.Encode(buf[:], m.h.Sum(m.sum[:0]))
	s.pool.Put(m)
	return buf[:n]
}

// Check verifies r's signature in constant time.
func (s *Signer) Check(r *Raw) error {
	if !s.Enabled() {
		return nil
	}
	if len(r.Signature) == 0 {
		return ErrUnsigned
	}
	var buf [2 * 64]byte
	want := s.sign(&buf, r.Header, r.Parent, r.Metadata, r.Content)
	if !hmac.Equal(want, r.Signature) {
		return ErrBadSignature
	}
	return nil
}
