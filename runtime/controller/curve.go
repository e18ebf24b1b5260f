package controller

import (
	"fmt"

	"ipcluster/runtime/transport"
)

// setCurveKeys checks that this build can encrypt (enable_curve) and chooses the
// controller's CurveZMQ key pair: the one configured, or a new one (as ipyparallel 9).
func (c *Config) setCurveKeys() error {
	if !transport.CurveSupported() {
		return fmt.Errorf("enable_curve: %w", transport.ErrCurveUnsupported)
	}
	switch {
	case c.CurveSecretKey == "" && c.CurvePublicKey == "":
		keys, err := transport.NewCurveKeypair()
		if err != nil {
			return fmt.Errorf("enable_curve: %w", err)
		}
		c.CurvePublicKey, c.CurveSecretKey = keys.Public, keys.Secret
	case c.CurveSecretKey == "" || c.CurvePublicKey == "":
		return fmt.Errorf("enable_curve: set both curve_secretkey and curve_publickey (IPP_CURVE_SECRETKEY, IPP_CURVE_PUBLICKEY), or neither for a new key pair")
	case len(c.CurveSecretKey) != 40 || len(c.CurvePublicKey) != 40:
		return fmt.Errorf("enable_curve: curve_secretkey and curve_publickey must be 40-character Z85 keys (as zmq.curve_keypair() makes)")
	}
	return nil
}

// curveKeys is the controller's key pair, for its sockets.
func (c *Config) curveKeys() transport.CurveKeys {
	return transport.CurveKeys{Public: c.CurvePublicKey, Secret: c.CurveSecretKey}
}
