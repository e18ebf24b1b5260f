package controller

import (
	"strconv"
	"time"

	"ipcluster/runtime/wire"
)

// whyHeartbeatLost is the reason logged when the monitor drops an engine.
const whyHeartbeatLost = "heartbeat lost"

// fastPingInterval is how often hearts are pinged while a registration waits for its first
// beat. ipyparallel waits for the next regular period (3 s); pinging at once makes an engine
// usable within milliseconds of registering.
const fastPingInterval = 20 * time.Millisecond

// fastEchoBudget bounds the echoes per second that fast pings cost: every connected engine
// answers every ping, registered or not, so during a registration storm of thousands of
// engines pinging every 20 ms would make the controller and the engines answer pings
// (hundreds of thousands a second) instead of registering. With more hearts the fast pings
// slow down (1000 engines: every 100 ms; 10,000: every second), never below the period.
const fastEchoBudget = 10000

// fastPingEvery is the fast ping interval with n hearts connected.
func (m *heartMonitor) fastPingEvery() time.Duration {
	n := len(m.hearts) + len(m.expecting)
	d := max(fastPingInterval, time.Duration(n)*time.Second/fastEchoBudget)
	return min(d, m.c.cfg.Ping)
}

// heartMonitor pings every engine each period on hb_ping and counts the echoes arriving on
// hb_pong; an engine that misses more than MaxMisses beats in a row is unregistered.
type heartMonitor struct {
	c         *Controller
	hearts    stringSet      // registered engines' hearts
	responses stringSet      // hearts that answered since the last beat
	misses    map[string]int // consecutive missed beats
	expecting stringSet      // pending registrations waiting for a first echo
	payloads  []sentPing     // recent pings, whose payload an echo may carry
	fastTimer bool
	unknown   map[string]int // hearts this controller does not know: notices sent to each
}

// maxUnknownLogged bounds the unknown hearts remembered (to log each once); an unknown heart
// is sent at most maxUnknownNotices notices: one that does not stop (an ipyparallel engine,
// which ignores them) is not worth a broadcast every beat.
const (
	maxUnknownLogged  = 4096
	maxUnknownNotices = 5
)

// sentPing is a ping's payload and when it was sent.
type sentPing struct {
	payload string
	at      time.Time
}

func newHeartMonitor(c *Controller) *heartMonitor {
	return &heartMonitor{c: c, hearts: stringSet{}, responses: stringSet{}, misses: map[string]int{}, expecting: stringSet{}, unknown: map[string]int{}}
}

func (m *heartMonitor) start() {
	if len(m.hearts) > 0 {
		m.ping() // restored engines: the first beat counts only if they were pinged
	}
	m.c.loop.After(m.c.cfg.Ping, m.beat)
}

// beat evaluates the period that just ended and sends the next ping.
func (m *heartMonitor) beat() {
	var failed []string
	for heart := range m.hearts {
		if m.responses.has(heart) {
			delete(m.misses, heart)
			continue
		}
		m.misses[heart]++
		m.c.log.Info("heartbeat missed", "uuid", heart, "misses", m.misses[heart])
		if m.misses[heart] > m.c.cfg.MaxMisses {
			failed = append(failed, heart)
		}
	}
	m.responses = stringSet{}
	for _, heart := range failed {
		if e := m.c.hub.byUUID[heart]; e != nil {
			m.c.hub.unregisterEngine(e.id, whyHeartbeatLost)
		}
		m.forget(heart)
	}
	m.ping()
	m.c.loop.After(m.c.cfg.Ping, m.beat)
}

func (m *heartMonitor) ping() {
	payload := strconv.FormatFloat(m.c.lifetime(), 'f', 6, 64)
	now := time.Now()
	m.payloads = append(m.payloads, sentPing{payload, now})
	// An echo counts if it answers one of the last 8 pings, or any ping of the last period:
	// fast pings during a registration storm come many to a period, and a busy engine's
	// echo of one of them must still complete its registration.
	drop := 0
	for drop < len(m.payloads)-8 && now.Sub(m.payloads[drop].at) > m.c.cfg.Ping {
		drop++
	}
	m.payloads = append(m.payloads[:0], m.payloads[drop:]...)
	m.c.send(m.c.hbPing, [][]byte{[]byte(payload)})
}

// expect starts fast pings for a pending registration.
func (m *heartMonitor) expect(uuid string) {
	m.expecting.add(uuid)
	if !m.fastTimer {
		m.fastTimer = true
		m.fastPing()
	}
}

func (m *heartMonitor) fastPing() {
	if len(m.expecting) == 0 {
		m.fastTimer = false
		return
	}
	m.ping()
	m.c.loop.After(m.fastPingEvery(), m.fastPing)
}

// forget stops tracking a heart.
func (m *heartMonitor) forget(uuid string) {
	delete(m.hearts, uuid)
	delete(m.responses, uuid)
	delete(m.misses, uuid)
	delete(m.expecting, uuid)
}

// onPong handles [heart uuid, payload] echoes.
func (m *heartMonitor) onPong(frames [][]byte) {
	if len(frames) != 2 {
		m.c.log.Warn("dropped malformed heartbeat", "frames", len(frames), "peer", peerName(frames))
		return
	}
	uuid, payload := string(frames[0]), string(frames[1])
	recent := false
	for _, p := range m.payloads {
		if p.payload == payload {
			recent = true
			break
		}
	}
	if !recent {
		m.c.log.Debug("stale heartbeat", "uuid", uuid, "payload", payload)
		return
	}
	if m.expecting.has(uuid) {
		delete(m.expecting, uuid)
		delete(m.unknown, uuid)
		if m.c.hub.completeRegistration(uuid) {
			m.hearts.add(uuid)
		}
	}
	if m.hearts.has(uuid) {
		m.responses.add(uuid)
		return
	}
	m.onUnknown(uuid)
}

// onUnknown answers an echo from a heart that is neither registered nor registering (an
// engine unregistered after missing beats, or one an earlier controller registered): it is
// logged once, and the engine is told on hb_ping so that it stops instead of living on
// unused (see wire.UnknownHeartPrefix).
func (m *heartMonitor) onUnknown(uuid string) {
	sent, seen := m.unknown[uuid]
	if !seen {
		m.c.log.Warn("heartbeat from an engine this controller does not know (unregistered, or registered with an earlier controller); telling it to stop",
			"uuid", uuid)
	}
	if sent >= maxUnknownNotices {
		return
	}
	m.noteUnknown(uuid, sent+1)
	m.c.send(m.c.hbPing, [][]byte{wire.UnknownHeartNotice(uuid)})
}

// departed notes an engine that unregistered itself: an echo its heart sends while it
// leaves is neither logged nor answered.
func (m *heartMonitor) departed(uuid string) { m.noteUnknown(uuid, maxUnknownNotices) }

func (m *heartMonitor) noteUnknown(uuid string, notices int) {
	if _, ok := m.unknown[uuid]; !ok && len(m.unknown) >= maxUnknownLogged {
		m.unknown = map[string]int{}
	}
	m.unknown[uuid] = notices
}
