// Package clocktest is the step clock that tests hand to the code they
// test instead of the system clock: its time moves only when the test
// moves it (Advance) or when the code sleeps on it (Sleep returns at once,
// having moved the time on), so no test waits for real time and every
// time-dependent outcome is decided by the test.
package clocktest

import (
	"context"
	"sync"
	"time"
)

// Clock is a step clock, safe for concurrent use.
type Clock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

// New returns a clock reading start.
func New(start time.Time) *Clock { return &Clock{t: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Sleep moves the clock on by d (if positive) and returns at once, or
// returns ctx's error if ctx has ended. It has the shape of the sleep
// functions the code under test accepts.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.t = c.t.Add(d)
	}
	c.slept = append(c.slept, d)
	return nil
}

// Slept lists the durations Sleep was asked for, in order.
func (c *Clock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}
