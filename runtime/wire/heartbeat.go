package wire

import "strings"

// A controller tells an engine it does not know (one it unregistered, or one registered
// with an earlier controller) by publishing, on hb_ping, one frame: UnknownHeartPrefix
// followed by the engine's uuid. ipyparallel engines echo any ping payload unread, so the
// notice is harmless to them; Go engines stop. (ipyparallel's controller only logs such
// hearts and its engines live on, unused.)
const UnknownHeartPrefix = "unknown-heart "

// UnknownHeartNotice is the hb_ping payload telling the engine uuid it is not registered.
func UnknownHeartNotice(uuid string) []byte { return []byte(UnknownHeartPrefix + uuid) }

// UnknownHeart returns the uuid a hb_ping payload says is unknown, if it is such a notice.
func UnknownHeart(payload []byte) (uuid string, ok bool) {
	return strings.CutPrefix(string(payload), UnknownHeartPrefix)
}
