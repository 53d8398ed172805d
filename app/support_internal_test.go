package app

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// A redelivered update whose first owner still holds the claim waits, on
// the handler's own time, for that owner to finish or its lease to run
// out. When that time runs out — while waiting, or in the middle of the
// Redis call — the update must be left for Telegram to deliver again: not
// read as "the claim store is down", which would handle it without a claim
// on a spent context (nothing done) and acknowledge it (lost). Seen once in
// CI: the webhook shutdown test's update, cut off, never answered again.
func TestClaimThatRunsOutOfTimeLeavesTheUpdateForRedelivery(t *testing.T) {
	t.Parallel()
	rd := redistest.New(t)
	updates := storage.NewUpdates(rd.Client(), storage.NewKeys(rd.Prefix()), 0)
	ctx := context.Background()
	const busy, fresh, crashed, late = 7, 8, 9, 10
	for id, lease := range map[int64]time.Duration{busy: time.Minute, crashed: 400 * time.Millisecond} {
		if cl, err := updates.Begin(ctx, id, "first#1", lease); err != nil || !cl.Proceed() {
			t.Fatalf("the first owner's claim of %d: %+v, %v", id, cl, err)
		}
	}

	handled := map[int]int{}
	handle := func(handlerTimeout time.Duration) bot.Handler {
		c := newClaimer(updates, "second", time.Minute, handlerTimeout)
		return bot.Dedupe(c, slog.New(slog.DiscardHandler), nil)(func(_ context.Context, r *bot.Request) error {
			handled[r.UpdateID()]++
			return nil
		})
	}
	spent, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	for _, tc := range []struct {
		name           string
		ctx            context.Context // nil: one of time
		time           time.Duration
		handlerTimeout time.Duration // half of it is the reserve
		id             int
		lease          time.Duration // a first owner's claim taken just before
	}{
		// Redis is asked on a context already spent: go-redis answers
		// context.DeadlineExceeded, which alone reads as "unavailable".
		{name: "spent before the call", ctx: spent, handlerTimeout: time.Second, id: fresh},
		{name: "spent while waiting for the busy claim", time: 300 * time.Millisecond, id: busy},
		// The owner's lease ends 1.5 s into a handler's 2 s, with less
		// than half of them left: not taken over (it would be without the
		// reserve). The lease is long enough for a stalled machine to
		// make the first try before it ends.
		{name: "half its time gone when the lease ends", time: 2 * time.Second, handlerTimeout: 2 * time.Second, id: late, lease: 1500 * time.Millisecond},
	} {
		if tc.lease > 0 {
			if cl, err := updates.Begin(context.Background(), int64(tc.id), "first#1", tc.lease); err != nil || !cl.Proceed() {
				t.Fatalf("the first owner's claim of %d: %+v, %v", tc.id, cl, err)
			}
		}
		ctx := tc.ctx
		if ctx == nil {
			c, cancel := context.WithTimeout(context.Background(), tc.time)
			defer cancel()
			ctx = c
		}
		err := handle(tc.handlerTimeout)(ctx, bot.NewRequest(tgbotapi.Update{UpdateID: tc.id}, "b"))
		if !errors.Is(err, bot.ErrNotClaimed) || errors.Is(err, bot.ErrClaimStoreDown) {
			t.Errorf("%s: Dedupe returned %v, want ErrNotClaimed (left for redelivery), not the store down", tc.name, err)
		}
	}
	// A claim whose owner crashed is still taken over once its lease ends,
	// with time enough left to handle the update.
	waiting, cancelWait := context.WithTimeout(ctx, 5*time.Second)
	defer cancelWait()
	if err := handle(5*time.Second)(waiting, bot.NewRequest(tgbotapi.Update{UpdateID: crashed}, "b")); err != nil {
		t.Errorf("taking over the crashed owner's update: %v", err)
	}
	if want := map[int]int{crashed: 1}; !maps.Equal(handled, want) {
		t.Errorf("handled %v, want only the crashed owner's update, once", handled)
	}
	// Nothing was recorded for the fresh update: its next delivery claims it.
	if cl, err := updates.Begin(ctx, fresh, "third#1", time.Minute); err != nil || cl.State != storage.ClaimNew {
		t.Errorf("the update left for redelivery, claimed next: %+v, %v; want new", cl, err)
	}
}
