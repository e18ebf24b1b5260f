package engine

import (
	"math/rand/v2"
	"testing"
	"time"

	"ipcluster/runtime/wire"
)

func TestAppendDateMatchesWire(t *testing.T) {
	c := newEncoder(mustSession(t))
	base := time.Date(2026, 11, 21, 23, 59, 58, 999_999_999, time.UTC)
	times := []time.Time{base, base.Add(time.Nanosecond), base.Add(1500 * time.Millisecond), time.Unix(0, 0),
		time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(12000, 1, 1, 0, 0, 0, 5000, time.UTC),
		time.Now(), time.Now().In(time.FixedZone("x", 5*3600+1800))}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		times = append(times, base.Add(time.Duration(r.Int64N(int64(72*time.Hour)))-36*time.Hour))
		times = append(times, times[len(times)-1].Add(time.Duration(r.IntN(3000))*time.Microsecond))
	}
	for _, tm := range times {
		if got, want := string(c.appendDate([]byte("x"), tm)), "x"+wire.FormatDate(tm); got != want {
			t.Fatalf("%v: %s, want %s", tm, got, want)
		}
	}
}

func TestAppendJSONStringMatchesWire(t *testing.T) {
	for _, s := range []string{"", "abc", "a\"b", "a\\b", "\n\t\x01\x7f", "é", "\u2028", "<>&", "\xff", "engine.0.status"} {
		want, _ := wire.Marshal(s)
		if got := appendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
	}
}

func mustSession(t *testing.T) *wire.Session {
	s, err := wire.NewSessionWithID("777adb3d-903d8766d586eb7cd7f749e1", []byte(benchKey), "hmac-sha256")
	if err != nil {
		t.Fatal(err)
	}
	return s
}
