package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/storage"
)

// runPolling takes updates by long polling while this replica holds the
// poll lease, and stands by while another replica holds it: Telegram
// answers two pollers of one bot with 409, each terminating the other's
// long poll. A replica standing by tries to take the lease every second (or
// every renewal period if that is shorter), so it takes over within about
// a second of a clean shutdown (which releases the lease) and within the
// lease plus a second of a crash. It returns nil when ctx ends, after
// cancelling the poll in flight and releasing the lease within the
// shutdown's budget — without waiting for the batch in hand, whose
// handlers the shutdown's next stage waits for and which is not confirmed
// to Telegram: whoever polls next gets it again, and the claims of its
// updates make it wait for those still being handled here —, and an
// error only when Telegram refuses the token.
func (a *App) runPolling(ctx context.Context, sd *shutdown) error {
	// The lease runs on real time, whatever clock the committee's
	// calendar runs on (tests move that one).
	lease := storage.NewPollLease(a.rdb, a.keys)
	owner := a.opts.instance + "/" + randomHex(4)
	retry := min(a.opts.pollRenew, time.Second)
	var (
		holder  string // the other replica last seen polling
		failing bool   // the last attempt at the lease failed
	)
	for ctx.Err() == nil {
		h, err := lease.Hold(ctx, owner, a.opts.pollTTL)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			if !failing {
				a.log.WarnContext(ctx, "the poll lease cannot be taken (Redis); not polling until it can", "err", err.Error())
			}
			failing, holder = true, ""
		case !h.Held:
			if h.Owner != holder {
				a.log.InfoContext(ctx, "another replica polls for updates; this one stands by", "poller", h.Owner)
			}
			failing, holder = false, h.Owner
		default:
			failing, holder = false, ""
			err := a.pollHolding(ctx, lease, owner, h.Until)
			if ctx.Err() != nil || err != nil {
				a.releasePollLease(sd.Context(), lease, owner)
				return err
			}
			continue // the lease was lost: see who holds it now
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return nil
}

// pollHolding polls while the lease lasts, renewing it every pollRenew.
// It stops polling — cancelling the getUpdates in flight, so that Telegram
// sees this poller go — as soon as Redis answers that another replica
// holds the lease, or when the lease is about to run out without a
// successful renewal (Redis unreachable): so the lease, and with it the
// right to poll, is never used past its end, and two replicas never poll
// at once. Until then a failed renewal is retried, so that during a short
// Redis outage users still hear that their action was not recorded. It
// returns nil when polling stopped (ctx ended or the lease was lost) and
// the poller's error when Telegram refuses the token. When ctx ends it
// returns at once: the poll in flight is cancelled with it, and the batch
// being handled is left to the handlers (see runPolling).
func (a *App) pollHolding(ctx context.Context, lease *storage.PollLease, owner string, until time.Time) error {
	ttl, renew := a.opts.pollTTL, a.opts.pollRenew
	retry := min(renew, time.Second)
	// Stop this long before the lease's end: the margin covers the
	// difference between the replicas' clocks and the time Telegram
	// takes to see the cancelled request go.
	margin := min(renew, ttl/5)

	a.log.InfoContext(ctx, "polling for updates: this replica holds the poll lease", "bot", a.BotUsername(), "owner", owner)
	a.metrics.PollerActive(true)
	defer a.metrics.PollerActive(false)
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	popts := append([]bot.PollerOption{
		bot.WithPollTimeout(a.cfg.Telegram.PollTimeout),
		bot.WithPollLogger(a.log),
		bot.WithPollMetrics(a.metrics),
		bot.WithDeleteWebhook(false),
	}, a.opts.pollerOptions...)
	done := make(chan error, 1)
	go func() { done <- bot.NewPoller(a.api, a.disp, popts...).Run(pctx) }()
	// stopped waits for the cancelled poller to finish its batch, unless
	// ctx ends: the shutdown does not wait for the batch here.
	stopped := func() error {
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return nil
		}
	}

	next := renew
	for {
		stopAt := until.Add(-margin)
		t := time.NewTimer(min(next, time.Until(stopAt)))
		select {
		case err := <-done:
			t.Stop()
			return err
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if !time.Now().Before(stopAt) {
			stop()
			a.log.WarnContext(ctx, "the poll lease could not be renewed in time; polling stopped", "until", until)
			return stopped()
		}
		rctx, cancel := context.WithDeadline(ctx, stopAt)
		h, err := lease.Hold(rctx, owner, ttl)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			// Nobody can take the lease before until: keep polling and
			// try again soon.
			a.log.WarnContext(ctx, "renewing the poll lease failed; polling on until it runs out", "err", err.Error(), "until", until)
			next = retry
		case !h.Held:
			stop()
			a.log.WarnContext(ctx, "the poll lease was taken by another replica; polling stopped", "poller", h.Owner)
			return stopped()
		default:
			until, next = h.Until, renew
		}
	}
}

// releasePollLease gives the lease up on shutdown, so that a replica
// standing by takes over at once rather than after the lease. It tries
// for 2 s at most, and not past the end of stop (the shutdown's budget).
func (a *App) releasePollLease(stop context.Context, lease *storage.PollLease, owner string) {
	rctx, cancel := context.WithTimeout(stop, 2*time.Second)
	defer cancel()
	if _, err := lease.Release(rctx, owner); err != nil {
		a.log.WarnContext(rctx, "releasing the poll lease failed; another replica polls once it runs out", "err", err.Error())
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
