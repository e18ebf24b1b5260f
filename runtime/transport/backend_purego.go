//go:build !libzmq

package transport

// Backend names the transport this binary was built with (the default, static build).
func Backend() string { return "pure-Go ZMTP" }
