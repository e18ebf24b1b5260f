package fdlimit

import (
	"strings"
	"syscall"
	"testing"
)

func TestRaiseLiftsSoftToHard(t *testing.T) {
	var before syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &before); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &before) })
	low := before
	low.Cur = min(before.Max, 512)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	l, err := Raise()
	if err != nil {
		t.Fatal(err)
	}
	var now syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now)
	if l.Soft != before.Max || now.Cur != before.Max || l.Hard != before.Max || l.Raised != (low.Cur < before.Max) {
		t.Errorf("Raise = %+v, limit now %+v; want the soft limit at the hard %d", l, now, before.Max)
	}
}

func TestCheckSaysHowManyEnginesFit(t *testing.T) {
	l := Limit{Soft: 20000, Hard: 20000}
	if err := l.Check(1000, "the controller"); err != nil {
		t.Errorf("1000 engines in 20000 files: %v", err)
	}
	err := l.Check(10000, "the controller")
	if err == nil {
		t.Fatal("10000 engines fit in 20000 files?")
	}
	for _, want := range []string{"80064 open files", "hard limit 20000", "at most 2492 engines"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
