package storage_test

import (
	"github.com/committeebot/committeebot/internal/clocktest"
	"log/slog"
	"testing"
	"time"

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
