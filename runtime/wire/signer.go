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
	pool sync.Pool // of hash.Hash (HMACs are costly to set up; reuse them)
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
	s.pool.New = func() any { return hmac.New(newHash, s.key) }
	return s, nil
}

// Enabled reports whether messages are signed.
func (s *Signer) Enabled() bool { return len(s.key) > 0 }

// Sign returns the lowercase hex HMAC of the four JSON parts, or nil when unsigned.
func (s *Signer) Sign(header, parent, metadata, content []byte) []byte {
	if !s.Enabled() {
		return []byte{}
	}
	h := s.pool.Get().(hash.Hash)
	h.Reset()
	h.Write(header)
	h.Write(parent)
	h.Write(metadata)
	h.Write(content)
	var sum [64]byte
	digest := h.Sum(sum[:0])
	s.pool.Put(h)
	out := make([]byte, hex.EncodedLen(len(digest)))
	hex.Encode(out, digest)
	return out
}

// Check verifies r's signature in constant time.
func (s *Signer) Check(r *Raw) error {
	if !s.Enabled() {
		return nil
	}
	if len(r.Signature) == 0 {
		return ErrUnsigned
	}
	want := s.Sign(r.Header, r.Parent, r.Metadata, r.Content)
	if !hmac.Equal(want, r.Signature) {
		return ErrBadSignature
	}
	return nil
}
