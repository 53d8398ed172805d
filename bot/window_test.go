package bot

import (
	"testing"
	"time"
)

func TestWindowNeverAllowsMoreThanNPerSpan(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	w := newWindow(20, time.Minute)
	var got []time.Time
	for i := 0; i < 45; i++ {
		// Callers arrive every 100ms and send as soon as their slot comes.
		got = append(got, w.reserve(t0.Add(time.Duration(i)*100*time.Millisecond)))
	}
	if !got[19].Equal(t0.Add(1900 * time.Millisecond)) {
		t.Errorf("20th message at %v, want without delay", got[19].Sub(t0))
	}
	if want := t0.Add(time.Minute); !got[20].Equal(want) {
		t.Errorf("21st message at %v, want %v", got[20].Sub(t0), want.Sub(t0))
	}
	for i := range got {
		n := 0
		for j := range got {
			if !got[j].Before(got[i]) && got[j].Before(got[i].Add(time.Minute)) {
				n++
			}
		}
		if n > 20 {
			t.Fatalf("%d messages within the minute from message %d", n, i)
		}
	}
}

func TestWindowCancelFreesTheSlot(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	w := newWindow(2, time.Minute)
	w.reserve(t0)
	at := w.reserve(t0)
	w.cancel(at)
	if got := w.reserve(t0); !got.Equal(t0) {
		t.Errorf("after cancel the slot is at %v, want at once", got.Sub(t0))
	}
	if w.idle(t0) {
		t.Error("window with fresh reservations reported idle")
	}
	if !w.idle(t0.Add(2 * time.Minute)) {
		t.Error("window not idle two minutes later")
	}
}
