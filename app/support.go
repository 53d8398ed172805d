package app

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/storage"
)

// claimer adapts storage.Updates to bot.Claimer. Each handling attempt gets
// its own owner name, so that a second delivery of an update while the
// first is still running is seen as busy, not as a retry of the same call.
type claimer struct {
	u        *storage.Updates
	instance string
	lease    time.Duration
	poll     time.Duration
	seq      atomic.Int64
	owners   sync.Map // update id → owner
}

func newClaimer(u *storage.Updates, instance string, lease time.Duration) *claimer {
	return &claimer{u: u, instance: instance, lease: lease, poll: 250 * time.Millisecond}
}

// Claim claims the update. When another owner holds it, Claim waits: until
// that owner finishes (the update is then skipped) or its lease runs out
// because it crashed (the update is then taken over and handled here). So a
// redelivered update is never dropped just because a dead process had
// claimed it, and never handled twice while its first handler still runs.
func (c *claimer) Claim(ctx context.Context, updateID int) (bool, error) {
	owner := c.instance + "#" + strconv.FormatInt(c.seq.Add(1), 10)
	for {
		cl, err := c.u.Begin(ctx, int64(updateID), owner, c.lease)
		if err != nil {
			return false, err
		}
		if cl.Proceed() {
			c.owners.Store(updateID, owner)
			return true, nil
		}
		if cl.State != storage.ClaimBusy {
			return false, nil
		}
		wait := time.Until(cl.LeaseUntil)
		if wait > c.poll {
			wait = c.poll
		}
		if wait < time.Millisecond {
			wait = time.Millisecond
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-t.C:
		}
	}
}

func (c *claimer) Done(ctx context.Context, updateID int) error {
	v, ok := c.owners.LoadAndDelete(updateID)
	if !ok {
		return nil
	}
	return c.u.Done(ctx, int64(updateID), v.(string))
}

// pinger is what readiness needs from the sender.
type pinger interface {
	Call(ctx context.Context, method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error)
}

// readiness answers /readyz: Redis answers PING and Telegram answers getMe.
// The Telegram check is cached for a few seconds so that frequent probes do
// not spend the bot's request budget.
type readiness struct {
	rdb redis.UniversalClient
	tg  pinger
	now func() time.Time

	mu     sync.Mutex
	tgOK   time.Time
	tgLast error
}

func newReadiness(rdb redis.UniversalClient, tg pinger, now func() time.Time) *readiness {
	return &readiness{rdb: rdb, tg: tg, now: now}
}

func (r *readiness) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := storage.Ping(ctx, r.rdb); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.now().Sub(r.tgOK) < 10*time.Second {
		return nil
	}
	if _, err := r.tg.Call(ctx, "getMe", nil); err != nil {
		r.tgLast = err
		return fmt.Errorf("telegram: %w", err)
	}
	r.tgOK = r.now()
	return nil
}
