package storage_test

import (
	"log/slog"
	"sync"
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
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
