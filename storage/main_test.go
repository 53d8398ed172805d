package storage_test

import (
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/committeebot/committeebot/internal/clocktest"
	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// One redis-server for the whole package; each test gets its own key prefix.
// go-redis's complaints while a test has Redis stopped are expected: drop them.
func TestMain(m *testing.M) {
	storage.SetRedisLogger(slog.New(slog.DiscardHandler))
	redistest.Main(m)
}

// clock is a settable time source for storage.WithClock.
// clock is the step clock the stores under test read.
type clock = clocktest.Clock

func newClock() *clock { return clocktest.New(time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)) }

// idsOf returns id(x) for each x of xs, in order.
func idsOf[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

// atOnce calls f(0) … f(n-1), each in a goroutine of its own, and returns
// what each returned, by i, once all have.
func atOnce(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	return errs
}

// countWins counts the nil errors of a race run by atOnce, and fails the
// test for each other error that is not lost (what a loser is told).
func countWins(t *testing.T, errs []error, lost error) int {
	t.Helper()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, lost):
			t.Errorf("racer %d: %v, want nil or %v", i, err, lost)
		}
	}
	return wins
}

// refusal is a call that must fail with want.
type refusal struct {
	name string
	call func() error
	want error
}

// wantRefusals runs each refusal as a subtest.
func wantRefusals(t *testing.T, rs []refusal) {
	t.Helper()
	for _, r := range rs {
		t.Run(r.name, func(t *testing.T) {
			if err := r.call(); !errors.Is(err, r.want) {
				t.Errorf("got %v, want %v", err, r.want)
			}
		})
	}
}

// errOf is the error of a call that returns a value and an error.
func errOf[T any](_ T, err error) error { return err }
