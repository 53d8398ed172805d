package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/config"
	"github.com/committeebot/committeebot/handlers"
	"github.com/committeebot/committeebot/scheduler"
	"github.com/committeebot/committeebot/storage"
)

// claimer adapts storage.Updates to bot.Claimer. Each handling attempt gets
// its own owner name, so that a second delivery of an update while the
// first is still running is seen as busy, not as a retry of the same call.
type claimer struct {
	u        *storage.Updates
	instance string
	lease    time.Duration
	reserve  time.Duration
	poll     time.Duration
	seq      atomic.Int64
	owners   sync.Map // update id → owner
}

// newClaimer returns the claimer of updates whose handlers get handlerTimeout
// each, under claims of lease.
func newClaimer(u *storage.Updates, instance string, lease, handlerTimeout time.Duration) *claimer {
	return &claimer{u: u, instance: instance, lease: lease, reserve: handlerTimeout / 2, poll: 250 * time.Millisecond}
}

// errStillClaimed: the update's claim is another owner's, and waiting
// longer for it would leave the handler too little time to run.
var errStillClaimed = errors.New("claimed by another handler still running")

// Claim claims the update. When another owner holds it, Claim waits: until
// that owner finishes (the update is then skipped) or its lease runs out
// because it crashed (the update is then taken over and handled here). So a
// redelivered update is never dropped just because a dead process had
// claimed it, and never handled twice while its first handler still runs.
//
// The wait uses the handler's own time (ctx), so it stops while half of
// that is left: a handler that took the update over with a few
// milliseconds to go would fail half-way and the update would count as
// handled. The update is then left for Telegram to deliver again, as it is
// when ctx ends or the store fails.
func (c *claimer) Claim(ctx context.Context, updateID int) (bool, error) {
	owner := c.instance + "#" + strconv.FormatInt(c.seq.Add(1), 10)
	for waited := false; ; waited = true {
		if dl, ok := ctx.Deadline(); ok && waited && time.Until(dl) < c.reserve {
			return false, fmt.Errorf("update %d: %w", updateID, errStillClaimed)
		}
		cl, err := c.u.Begin(ctx, int64(updateID), owner, c.lease)
		if err != nil && ctx.Err() != nil {
			// The handler's own time ran out (waiting for a busy claim
			// uses it), not the store: the update is left for
			// redelivery. Read as "store down", it would be handled
			// without a claim on a spent context — nothing done — and
			// acknowledged to Telegram: lost.
			return false, ctx.Err()
		}
		if storage.IsUnavailable(err) {
			return false, fmt.Errorf("%w: %w", bot.ErrClaimStoreDown, err)
		}
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

// pinger is what the Telegram probe needs from the sender.
type pinger interface {
	Call(ctx context.Context, method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error)
}

// readiness answers /readyz. Until the bot knows who it is (getMe
// answered at start) it is not ready; from then on it is ready while Redis
// answers PING. Telegram is not part of it once running: a Telegram outage
// must not take every replica out of the load balancer (updates wait at
// Telegram, messages in the outbox); its reachability is the
// committeebot_telegram_up metric and a log line (probeTelegram).
type readiness struct {
	rdb      redis.UniversalClient
	known    atomic.Bool
	stopping atomic.Bool
}

func newReadiness(rdb redis.UniversalClient) *readiness {
	return &readiness{rdb: rdb}
}

// identified records that getMe answered and the bot is wired.
func (r *readiness) identified() { r.known.Store(true) }

// stop records that the shutdown began: the replica is not ready from
// then on, so that a load balancer still sending it webhook deliveries
// stops doing so.
func (r *readiness) stop() { r.stopping.Store(true) }

// errNotIdentified is /readyz's answer while getMe has not answered.
var errNotIdentified = errors.New("telegram: the bot does not know who it is yet (getMe has not answered)")

// errStopping is /readyz's answer once the shutdown began.
var errStopping = errors.New("shutting down")

func (r *readiness) check(ctx context.Context) error {
	if r.stopping.Load() {
		return errStopping
	}
	if !r.known.Load() {
		return errNotIdentified
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := storage.Ping(ctx, r.rdb); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// telegramObserver records whether Telegram answers.
type telegramObserver interface {
	TelegramUp(up bool)
}

// probeTelegram asks Telegram getMe every period until ctx ends, keeps
// the metric current and logs each change between reachable and not.
func probeTelegram(ctx context.Context, tg pinger, m telegramObserver, log *slog.Logger, period time.Duration) {
	up := true
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := tg.Call(cctx, "getMe", nil)
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && up:
			log.WarnContext(ctx, "Telegram is unreachable; updates wait at Telegram and messages in the outbox", "err", err.Error())
		case err == nil && !up:
			log.InfoContext(ctx, "Telegram is reachable again")
		}
		up = err == nil
		m.TelegramUp(up)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// newSealer builds the secret-ballot sealer from voting.seal_key. Only the
// demo runs without one (serve refuses to start): it then gets a random
// key for the session, so its secret ballots cannot be counted after a
// restart.
func newSealer(cfg *config.Config, log *slog.Logger) (*storage.Sealer, error) {
	var key []byte
	if cfg.Voting.SealKey.IsSet() {
		var err error
		if key, err = cfg.Voting.SealKeyBytes(); err != nil {
			return nil, fmt.Errorf("voting.seal_key: %w", err)
		}
	} else {
		key = make([]byte, 32)
		if _, rerr := rand.Read(key); rerr != nil {
			return nil, fmt.Errorf("seal key: %w", rerr)
		}
		log.Warn("voting.seal_key is not set: secret ballots are sealed with a key that lives only until this process ends")
	}
	s, err := storage.NewSealer(key)
	if err != nil {
		return nil, fmt.Errorf("voting.seal_key: %w", err)
	}
	return s, nil
}

// wakeOnDue schedules jobs, and wakes this replica's runner for a job due
// already, so that it runs at once rather than at the next tick (a
// ballot's result after the last vote).
type wakeOnDue struct {
	handlers.JobScheduler
	now    func() time.Time
	runner atomic.Pointer[scheduler.Runner]
}

func (w *wakeOnDue) Schedule(ctx context.Context, job storage.Job) error {
	if err := w.JobScheduler.Schedule(ctx, job); err != nil {
		return err
	}
	w.wake(job)
	return nil
}

func (w *wakeOnDue) ScheduleOnce(ctx context.Context, job storage.Job) error {
	if err := w.JobScheduler.ScheduleOnce(ctx, job); err != nil {
		return err
	}
	w.wake(job)
	return nil
}

func (w *wakeOnDue) wake(job storage.Job) {
	if r := w.runner.Load(); r != nil && !job.DueAt.After(w.now()) {
		r.Wake()
	}
}
