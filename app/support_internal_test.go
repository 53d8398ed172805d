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
		ctx            context.Context
		handlerTimeout time.Duration
		id             int
	}{
		// Redis is asked on a context already spent: go-redis answers
		// context.DeadlineExceeded, which alone reads as "unavailable".
		{"spent before the call", spent, time.Second, fresh},
		{"spent while waiting for the busy claim", nil, 0, busy},
		// The owner's lease ends 400 ms into a handler's 600 ms, with less
		// than half of them left: not taken over (it would be without the
		// reserve).
		{"half its time gone when the lease ends", nil, 600 * time.Millisecond, late},
	} {
		ctx := tc.ctx
		if tc.id == late {
			if cl, err := updates.Begin(context.Background(), late, "first#1", 400*time.Millisecond); err != nil || !cl.Proceed() {
				t.Fatalf("the first owner's claim of %d: %+v, %v", late, cl, err)
			}
		}
		if ctx == nil {
			c, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
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
