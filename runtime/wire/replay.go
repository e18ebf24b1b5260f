package wire

import (
	"crypto/sha512"
	"encoding/binary"
	"sync"
)

// DefaultReplayHistory is how many signatures jupyter_client remembers.
const DefaultReplayHistory = 1 << 16

// ReplayGuard remembers recent signatures so that a message sent twice is refused the
// second time. The history is bounded: the oldest signatures are forgotten first.
//
// The history holds no pointers (it costs the garbage collector nothing) and is indexed by
// the first 8 bytes of each signature: an HMAC's bytes are uniformly spread, so that index
// almost never holds two signatures; when it does, the whole history is searched, so the
// answer is always exact.
type ReplayGuard struct {
	mu    sync.Mutex
	index map[uint64]int32 // prefix -> position in ring of the newest signature with it
	ring  []sigKey         // grows up to size, then wraps
	size  int
	next  int
}

// sigKey is a signature without pointers and without losing any bit of it: 64 < n <= 128
// is a lowercase hex signature of 2(n-64) characters decoded (the form Session's
// signatures take: 64 characters for SHA-256, 128 for SHA-512); n <= 64 is any other
// signature of n bytes as is. Longer ones, which Session never admits, are kept as their
// SHA-512 (n = 255).
type sigKey struct {
	n uint8
	b [64]byte
}

func keyOf(sig []byte) sigKey {
	var k sigKey
	switch {
	case len(sig) <= 128 && len(sig)%2 == 0 && decodeLowerHex(k.b[:], sig):
		k.n = uint8(64 + len(sig)/2)
	case len(sig) <= 64:
		k.b = [64]byte{} // undo a partial decoding
		k.n = uint8(len(sig))
		copy(k.b[:], sig)
	default:
		k.n = 255
		k.b = sha512.Sum512(sig)
	}
	return k
}

func (k *sigKey) prefix() uint64 { return binary.LittleEndian.Uint64(k.b[:8]) }

// hexValue maps lowercase hex digits to their value and every other byte to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
	}
	return t
}()

// decodeLowerHex decodes src (of even length) into dst and reports whether src was all
// lowercase hex digits (without branching on each digit).
func decodeLowerHex(dst, src []byte) bool {
	var bad byte
	for i := range len(src) / 2 {
		hi, lo := hexValue[src[2*i]], hexValue[src[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo
	}
	return bad&0xf0 == 0
}

// NewReplayGuard remembers up to size signatures (DefaultReplayHistory if size <= 0).
func NewReplayGuard(size int) *ReplayGuard {
	if size <= 0 {
		size = DefaultReplayHistory
	}
	return &ReplayGuard{index: map[uint64]int32{}, size: size}
}

// Admit records sig and reports whether it was new. Empty signatures (unsigned sessions)
// are always admitted.
func (g *ReplayGuard) Admit(sig []byte) bool {
	if len(sig) == 0 {
		return true
	}
	k := keyOf(sig)
	p := k.prefix()
	g.mu.Lock()
	defer g.mu.Unlock()
	if i, ok := g.index[p]; ok {
		if g.ring[i] == k {
			return false
		}
		for j := range g.ring { // another signature with the same prefix: look everywhere
			if g.ring[j] == k {
				return false
			}
		}
	}
	pos := g.next
	if len(g.ring) < g.size {
		g.ring = append(g.ring, k)
		pos = len(g.ring) - 1
	} else {
		old := &g.ring[pos]
		if op := old.prefix(); g.index[op] == int32(pos) {
			delete(g.index, op)
		}
		*old = k
		g.next = (g.next + 1) % g.size
	}
	g.index[p] = int32(pos)
	return true
}
