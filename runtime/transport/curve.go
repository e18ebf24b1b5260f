package transport

import "errors"

// CurveZMQ (RFC 26) encrypts and authenticates connections, as ipyparallel 9 does with
// enable_curve. The handshake and the cryptography are libzmq's (with libsodium): only the
// libzmq backend offers them; the pure-Go one returns ErrCurveUnsupported.

// CurveKeys is a CurveZMQ key pair, each key a 40-character Z85 string (the form of
// ipyparallel's curve_serverkey and of zmq.curve_keypair()).
type CurveKeys struct {
	Public string
	Secret string
}

// ErrCurveUnsupported is what the pure-Go backend answers to any CurveZMQ request.
var ErrCurveUnsupported = errors.New("CurveZMQ encryption needs the libzmq build of ipcluster (make build-libzmq); this binary uses the pure-Go ZMTP transport")

// validZ85Key reports whether k has the form of a Z85-encoded 32-byte key.
func validZ85Key(k string) bool { return len(k) == 40 }
