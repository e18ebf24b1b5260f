package controller

import "sort"

// orderedSet is a set of msg_ids that remembers insertion order, with O(1) add and remove.
type orderedSet struct {
	seq   uint64
	items map[string]uint64
}

func newOrderedSet() *orderedSet { return &orderedSet{items: map[string]uint64{}} }

func (s *orderedSet) add(id string) {
	if _, ok := s.items[id]; !ok {
		s.seq++
		s.items[id] = s.seq
	}
}

func (s *orderedSet) remove(id string) bool {
	_, ok := s.items[id]
	delete(s.items, id)
	return ok
}

func (s *orderedSet) has(id string) bool { _, ok := s.items[id]; return ok }

func (s *orderedSet) len() int { return len(s.items) }

// list returns the ids in insertion order.
func (s *orderedSet) list() []string {
	out := make([]string, 0, len(s.items))
	for id := range s.items {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return s.items[out[i]] < s.items[out[j]] })
	return out
}

// stringSet is a plain set of strings.
type stringSet map[string]struct{}

func (s stringSet) add(id string)      { s[id] = struct{}{} }
func (s stringSet) has(id string) bool { _, ok := s[id]; return ok }
