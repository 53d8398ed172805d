package clocktest_test

import (
	"context"
	"testing"
	"time"

	"github.com/committeebot/committeebot/internal/clocktest"
)

func TestTheClockMovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2025, 1, 20, 9, 0, 0, 0, time.UTC)
	c := clocktest.New(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now = %v, want %v", c.Now(), start)
	}
	c.Advance(time.Minute)
	if err := c.Sleep(context.Background(), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	_ = c.Sleep(context.Background(), -time.Second) // no move back
	if want := start.Add(time.Minute + 2*time.Second); !c.Now().Equal(want) {
		t.Errorf("Now = %v, want %v", c.Now(), want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); err == nil || c.Now().After(start.Add(time.Minute+2*time.Second)) {
		t.Errorf("Sleep on an ended context = %v and moved the clock", err)
	}
	if got := c.Slept(); len(got) != 2 || got[0] != 2*time.Second {
		t.Errorf("Slept = %v", got)
	}
}
