package controller

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ipyparallel's SQLiteDB stores a record's buffers as one blob: a Python pickle of the list
// of bytes objects. These read and write just that shape (a list of bytes), which is all a
// task database holds, so a file is shared with the Python controller both ways.

// Pickle opcodes used by a list of bytes, protocols 3 to 5.
const (
	opProto        = 0x80
	opFrame        = 0x95
	opStop         = '.'
	opMark         = '('
	opEmptyList    = ']'
	opAppend       = 'a'
	opAppends      = 'e'
	opShortBytes   = 'C'
	opBytes        = 'B'
	opBytes8       = 0x8e
	opMemoize      = 0x94
	opBinPut       = 'q'
	opLongBinPut   = 'r'
	opBinGet       = 'h'
	opLongBinGet   = 'j'
	pickleProtocol = 4 // readable by every Python 3.4 and later
)

// pickleBuffers encodes bufs as ipyparallel does; nil for none (it stores NULL then).
func pickleBuffers(bufs [][]byte) []byte {
	if len(bufs) == 0 {
		return nil
	}
	n := 6
	for _, b := range bufs {
		n += 9 + len(b)
	}
	out := make([]byte, 0, n)
	out = append(out, opProto, pickleProtocol, opEmptyList, opMark)
	for _, b := range bufs {
		switch {
		case len(b) < 256:
			out = append(out, opShortBytes, byte(len(b)))
		case uint64(len(b)) < 1<<32:
			out = append(out, opBytes)
			out = binary.LittleEndian.AppendUint32(out, uint32(len(b)))
		default:
			out = append(out, opBytes8)
			out = binary.LittleEndian.AppendUint64(out, uint64(len(b)))
		}
		out = append(out, b...)
	}
	return append(out, opAppends, opStop)
}

var errPickleShape = errors.New("not a pickled list of bytes")

// unpickleBuffers decodes a pickled list of bytes objects (any protocol from 3, with or
// without framing and memo entries, as Python's pickle writes it).
func unpickleBuffers(data []byte) ([][]byte, error) {
	type item struct {
		mark  bool
		list  *[][]byte
		bytes []byte
	}
	var stack []item
	memo := map[uint32]item{}
	pos := 0
	need := func(n uint64) ([]byte, error) {
		if uint64(len(data)-pos) < n {
			return nil, fmt.Errorf("%w: truncated at byte %d", errPickleShape, pos)
		}
		b := data[pos : pos+int(n)]
		pos += int(n)
		return b, nil
	}
	size := func(width int) (uint64, error) {
		b, err := need(uint64(width))
		if err != nil {
			return 0, err
		}
		switch width {
		case 1:
			return uint64(b[0]), nil
		case 4:
			return uint64(binary.LittleEndian.Uint32(b)), nil
		}
		return binary.LittleEndian.Uint64(b), nil
	}
	top := func() (item, error) {
		if len(stack) == 0 {
			return item{}, fmt.Errorf("%w: empty stack at byte %d", errPickleShape, pos)
		}
		return stack[len(stack)-1], nil
	}
	appendTo := func(list item, values []item) error {
		if list.list == nil {
			return fmt.Errorf("%w: append to a non-list", errPickleShape)
		}
		for _, v := range values {
			if v.bytes == nil {
				return fmt.Errorf("%w: an element is not bytes", errPickleShape)
			}
			*list.list = append(*list.list, v.bytes)
		}
		return nil
	}
	for {
		b, err := need(1)
		if err != nil {
			return nil, err
		}
		op := b[0]
		switch op {
		case opProto:
			if _, err := need(1); err != nil {
				return nil, err
			}
		case opFrame:
			if _, err := size(8); err != nil {
				return nil, err
			}
		case opMark:
			stack = append(stack, item{mark: true})
		case opEmptyList:
			stack = append(stack, item{list: &[][]byte{}})
		case opShortBytes, opBytes, opBytes8:
			width := map[byte]int{opShortBytes: 1, opBytes: 4, opBytes8: 8}[op]
			n, err := size(width)
			if err != nil {
				return nil, err
			}
			raw, err := need(n)
			if err != nil {
				return nil, err
			}
			stack = append(stack, item{bytes: append(make([]byte, 0, len(raw)), raw...)})
		case opMemoize, opBinPut, opLongBinPut:
			t, err := top()
			if err != nil {
				return nil, err
			}
			idx := uint64(len(memo))
			switch op {
			case opBinPut:
				idx, err = size(1)
			case opLongBinPut:
				idx, err = size(4)
			}
			if err != nil {
				return nil, err
			}
			memo[uint32(idx)] = t
		case opBinGet, opLongBinGet:
			width := 1
			if op == opLongBinGet {
				width = 4
			}
			idx, err := size(width)
			if err != nil {
				return nil, err
			}
			v, ok := memo[uint32(idx)]
			if !ok {
				return nil, fmt.Errorf("%w: memo %d unknown", errPickleShape, idx)
			}
			stack = append(stack, v)
		case opAppend:
			if len(stack) < 2 {
				return nil, fmt.Errorf("%w: append without a list", errPickleShape)
			}
			if err := appendTo(stack[len(stack)-2], stack[len(stack)-1:]); err != nil {
				return nil, err
			}
			stack = stack[:len(stack)-1]
		case opAppends:
			m := len(stack) - 1
			for m >= 0 && !stack[m].mark {
				m--
			}
			if m < 1 {
				return nil, fmt.Errorf("%w: appends without a mark and a list", errPickleShape)
			}
			if err := appendTo(stack[m-1], stack[m+1:]); err != nil {
				return nil, err
			}
			stack = stack[:m]
		case opStop:
			if len(stack) != 1 || stack[0].list == nil {
				return nil, errPickleShape
			}
			return *stack[0].list, nil
		default:
			return nil, fmt.Errorf("%w: unsupported pickle opcode 0x%02x", errPickleShape, op)
		}
	}
}
