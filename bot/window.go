package bot

import (
	"sync"
	"time"
)

// window allows at most n events in any span of length per. It is
// Telegram's own rule for groups (20 messages a minute), which a token
// bucket can only meet by giving up bursts: with a window a group sees a
// command's answer and its follow-up at once, and still never gets a 21st
// message within a minute.
type window struct {
	n   int
	per time.Duration

	mu    sync.Mutex
	times []time.Time // reserved send times, sorted, at most n
}

func newWindow(n int, per time.Duration) *window {
	return &window{n: n, per: per}
}

// reserve books the earliest time at or after now when one more event fits
// in the window, and returns it.
func (w *window) reserve(now time.Time) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	at := now
	if len(w.times) >= w.n {
		if free := w.times[len(w.times)-w.n].Add(w.per); free.After(at) {
			at = free
		}
	}
	if k := len(w.times); k > 0 && w.times[k-1].After(at) {
		at = w.times[k-1]
	}
	w.times = append(w.times, at)
	if len(w.times) > w.n {
		w.times = append(w.times[:0], w.times[len(w.times)-w.n:]...)
	}
	return at
}

// cancel gives back a reservation that was not used (the caller's context
// ended while it waited).
func (w *window) cancel(at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.times) - 1; i >= 0; i-- {
		if w.times[i].Equal(at) {
			w.times = append(w.times[:i], w.times[i+1:]...)
			return
		}
	}
}

// idle reports whether the window holds no reservation newer than per
// before now, so dropping it and starting afresh allows exactly the same.
func (w *window) idle(now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := len(w.times)
	return k == 0 || !w.times[k-1].After(now.Add(-w.per))
}
