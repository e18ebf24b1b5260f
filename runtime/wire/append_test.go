package wire

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestAppendDateMatchesFormatDate(t *testing.T) {
	base := time.Date(2026, 11, 21, 23, 59, 58, 999_999_999, time.UTC)
	times := []time.Time{base, base.Add(time.Nanosecond), base.Add(1500 * time.Millisecond), time.Unix(0, 0),
		time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(12000, 1, 1, 0, 0, 0, 5000, time.UTC),
		time.Now(), time.Now().In(time.FixedZone("x", 5*3600+1800))}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		times = append(times, base.Add(time.Duration(r.Int64N(int64(72*time.Hour)))-36*time.Hour))
		times = append(times, times[len(times)-1].Add(time.Duration(r.IntN(3000))*time.Microsecond))
	}
	leap := time.Date(2024, 2, 28, 23, 59, 59, 999_999_999, time.UTC)
	for i := range 5000 {
		times = append(times, leap.Add(time.Duration(i)*7777777*time.Microsecond))
	}
	for _, tm := range times {
		s := string(AppendDate([]byte("x"), tm))
		if want := "x" + FormatDate(tm); s != want {
			t.Fatalf("%v: %s, want %s", tm, s, want)
		}
		checkParseDate(t, s[1:])
	}
}

func TestParseDate(t *testing.T) {
	for _, s := range dateSeeds {
		checkParseDate(t, s)
	}
	if _, ok := parseDateFast(dateSeeds[0]); !ok {
		t.Errorf("%s: not read directly", dateSeeds[0])
	}
}

var dateSeeds = []string{"2026-11-21T05:15:05.530575Z", "2026-02-29T00:00:00.000000Z", "2024-02-29T23:59:60.000000Z",
	"2026-13-01T00:00:00.000000Z", "2026-11-21T24:00:00.000000Z", "2026-11-21T05:15:05.530575+00:00",
	"2026-11-21T05:15:05.5Z", "0000-01-01T00:00:00.000000Z", "2026-11-21T05:15:05.53057aZ", "2026-11-21 05:15:05.530575Z",
	"2026-11-21T05:15:05.530575", ""}

// checkParseDate checks ParseDate against the time package alone: the same instant in the
// same zone, and the identical value where ParseDate reads the date directly (times with
// an offset have a fresh *time.Location each time, so == would not do for those).
func checkParseDate(t *testing.T, s string) {
	t.Helper()
	got, err := ParseDate(s)
	want, werr := parseDateSlow(s)
	gotZone, gotOffset := got.Zone()
	wantZone, wantOffset := want.Zone()
	_, direct := parseDateFast(s)
	if (err != nil) != (werr != nil) || !got.Equal(want) || gotZone != wantZone || gotOffset != wantOffset ||
		got.Location().String() != want.Location().String() || direct && got != want {
		t.Fatalf("%q: %v %v, want %v %v", s, got, err, want, werr)
	}
}

// FuzzParseDate checks that ParseDate's direct reading of the protocol's form gives what
// the time package gives.
func FuzzParseDate(f *testing.F) {
	for _, s := range dateSeeds {
		f.Add(s)
	}
	f.Fuzz(checkParseDate)
}

var jsonStringSeeds = []string{"", "abc", "a\"b", "a\\b", "\n\t\x01\x7f", "é", "\u2028", "<>&", "\xff", "engine.0.status"}

func TestAppendJSONString(t *testing.T) {
	for _, s := range jsonStringSeeds {
		checkAppendJSONString(t, s)
	}
}

func checkAppendJSONString(t *testing.T, s string) {
	t.Helper()
	want, _ := Marshal(s)
	if got := AppendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
		t.Fatalf("%q: %s, want %s", s, got, want)
	}
}

// FuzzAppendJSONString checks AppendJSONString against Marshal.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStringSeeds {
		f.Add(s)
	}
	f.Fuzz(checkAppendJSONString)
}
