//go:build libzmq

package transport

import (
	"fmt"

	zmq "github.com/pebbe/zmq4"
)

// CurveSupported reports whether the linked libzmq can encrypt with CurveZMQ (it was built
// with libsodium or its own tweetnacl).
func CurveSupported() bool { return zmq.HasCurve() }

// NewCurveKeypair makes a new CurveZMQ key pair with libzmq.
func NewCurveKeypair() (CurveKeys, error) {
	if !CurveSupported() {
		return CurveKeys{}, fmt.Errorf("this libzmq was built without CurveZMQ support")
	}
	pub, sec, err := zmq.NewCurveKeypair()
	if err != nil {
		return CurveKeys{}, fmt.Errorf("make CurveZMQ key pair: %w", err)
	}
	return CurveKeys{Public: pub, Secret: sec}, nil
}

// SetCurveServer makes the socket a CurveZMQ server with the key pair keys: every peer must
// complete a CURVE handshake with its public key. Call it before Bind.
func (s *Socket) SetCurveServer(keys CurveKeys) error {
	if !validZ85Key(keys.Public) || !validZ85Key(keys.Secret) {
		return fmt.Errorf("CurveZMQ server keys must be 40-character Z85 strings")
	}
	if err := s.z.SetCurveServer(1); err != nil {
		return fmt.Errorf("CurveZMQ server: %w", err)
	}
	if err := s.z.SetCurveSecretkey(keys.Secret); err != nil {
		return fmt.Errorf("CurveZMQ server secret key: %w", err)
	}
	if err := s.z.SetCurvePublickey(keys.Public); err != nil {
		return fmt.Errorf("CurveZMQ server public key: %w", err)
	}
	return nil
}

// SetCurveClient makes the socket a CurveZMQ client of the server whose public key is
// serverKey, with its own key pair own. Call it before Connect.
func (s *Socket) SetCurveClient(serverKey string, own CurveKeys) error {
	if !validZ85Key(serverKey) {
		return fmt.Errorf("CurveZMQ server key %q: want a 40-character Z85 string", serverKey)
	}
	if !validZ85Key(own.Public) || !validZ85Key(own.Secret) {
		return fmt.Errorf("CurveZMQ client keys must be 40-character Z85 strings")
	}
	if err := s.z.SetCurveServerkey(serverKey); err != nil {
		return fmt.Errorf("CurveZMQ server key: %w", err)
	}
	if err := s.z.SetCurvePublickey(own.Public); err != nil {
		return fmt.Errorf("CurveZMQ client public key: %w", err)
	}
	if err := s.z.SetCurveSecretkey(own.Secret); err != nil {
		return fmt.Errorf("CurveZMQ client secret key: %w", err)
	}
	return nil
}
