//go:build !libzmq

package transport

// CurveSupported reports whether this backend can encrypt with CurveZMQ (never, here).
func CurveSupported() bool { return false }

// NewCurveKeypair returns ErrCurveUnsupported: the pure-Go backend has no CurveZMQ.
func NewCurveKeypair() (CurveKeys, error) { return CurveKeys{}, ErrCurveUnsupported }

// SetCurveServer returns ErrCurveUnsupported: the pure-Go backend has no CurveZMQ.
func (s *Socket) SetCurveServer(CurveKeys) error { return ErrCurveUnsupported }

// SetCurveClient returns ErrCurveUnsupported: the pure-Go backend has no CurveZMQ.
func (s *Socket) SetCurveClient(string, CurveKeys) error { return ErrCurveUnsupported }
