package controller

import "hash/fnv"

// seenFilter is a Bloom filter of the msg_ids in the task database: "no" is certain, "maybe"
// costs a lookup. It lets the event loop learn that a new task has no record yet (every
// task asks, to merge output that came first) without a query, in fixed memory: 1 MiB
// answers wrongly under 3% of the time up to a million records and degrades gently beyond.
type seenFilter struct{ bits []uint64 }

const seenFilterBits = 1 << 23

func newSeenFilter() *seenFilter { return &seenFilter{bits: make([]uint64, seenFilterBits/64)} }

// positions are the filter's 4 bits for id (double hashing of one 64-bit FNV-1a).
func (f *seenFilter) positions(id string) [4]uint32 {
	h := fnv.New64a()
	h.Write([]byte(id))
	sum := h.Sum64()
	a, b := uint32(sum), uint32(sum>>32)|1
	var out [4]uint32
	for i := range out {
		out[i] = (a + uint32(i)*b) % seenFilterBits
	}
	return out
}

func (f *seenFilter) add(id string) {
	for _, p := range f.positions(id) {
		f.bits[p/64] |= 1 << (p % 64)
	}
}

func (f *seenFilter) maybe(id string) bool {
	for _, p := range f.positions(id) {
		if f.bits[p/64]&(1<<(p%64)) == 0 {
			return false
		}
	}
	return true
}
