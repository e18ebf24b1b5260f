package transport

import "encoding/binary"

// zmtpHello is what a ZMTP 3.0 peer with the NULL mechanism sends first, written out by
// hand (not with the pure-Go backend's encoder) so that tests can play a peer, a well
// behaved one or not, against either backend: the 64-byte greeting, then a READY command
// with the socket type and identity.
func zmtpHello(socketType, identity string) []byte {
	g := make([]byte, 64)
	g[0], g[9] = 0xff, 0x7f // signature
	g[10], g[11] = 3, 0     // version 3.0
	copy(g[12:32], "NULL")  // mechanism; as-server and filler stay zero
	body := append([]byte{5}, "READY"...)
	for _, prop := range [][2]string{{"Socket-Type", socketType}, {"Identity", identity}} {
		body = append(body, byte(len(prop[0])))
		body = append(body, prop[0]...)
		body = binary.BigEndian.AppendUint32(body, uint32(len(prop[1])))
		body = append(body, prop[1]...)
	}
	return append(append(g, 0x04, byte(len(body))), body...) // a short command frame
}
