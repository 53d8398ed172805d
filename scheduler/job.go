package scheduler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/storage"
)

// Job is a claimed job as its handler sees it.
type Job struct {
	claimed storage.ClaimedJob
	runner  *Runner
}

// ID is the job's id.
func (j *Job) ID() string { return j.claimed.ID }

// Kind is the job's kind.
func (j *Job) Kind() string { return j.claimed.Kind }

// Payload is what the scheduling code stored with the job.
func (j *Job) Payload() []byte { return j.claimed.Payload }

// DueAt is when the job was due.
func (j *Job) DueAt() time.Time { return j.claimed.DueAt }

// ClaimedAt is when this run claimed the job, on the scheduler's clock.
// Handlers compare it with DueAt to tell a late run (the bot was down).
func (j *Job) ClaimedAt() time.Time { return j.claimed.ClaimedAt }

// Attempt counts the claims of the job, this one included.
func (j *Job) Attempt() int { return j.claimed.Attempt }

// Redelivered reports that an earlier run lost its lease (crashed).
func (j *Job) Redelivered() bool { return j.claimed.Redelivered }

// Token is the fencing token of this run.
func (j *Job) Token() int64 { return j.claimed.Token }

// Uncertain says what to do with a delivery an earlier run reserved and
// never recorded: it crashed after reserving it, and Telegram may or may
// not have accepted the message.
type Uncertain int

const (
	// Resend sends it again: at least once, a duplicate possible only for
	// messages in flight at the crash. For reminders and notices, where a
	// missed message costs more than a repeated one.
	Resend Uncertain = iota
	// Skip does not send it again: at most once, for messages whose
	// repetition would do harm.
	Skip
)

// Outcome is what Deliver did.
type Outcome int

// Outcomes of Deliver.
const (
	// Sent: the message was sent and recorded.
	Sent Outcome = iota + 1
	// AlreadyDone: a previous run sent it (or found it undeliverable).
	AlreadyDone
	// Unreachable: the send failed for good (Permanent) and is recorded
	// as such: the user blocked the bot or never opened a chat with it.
	Unreachable
	// SkippedUncertain: a crashed run may have sent it; Skip chose not
	// to send it again.
	SkippedUncertain
)

// errPermanent marks send errors that retrying will not fix.
var errPermanent = errors.New("permanent delivery failure")

// Permanent wraps a send error that retrying will not fix (the user
// blocked the bot, the chat does not exist): Deliver records the delivery
// as unreachable instead of failing the job.
func Permanent(err error) error { return fmt.Errorf("%w: %w", errPermanent, err) }

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool { return errors.Is(err, errPermanent) }

// Deliver makes delivery key of the job (one message to one chat) at most
// once across runs: it reserves the key in the job's delivery log (which
// also renews the job's lease), calls send, and records the outcome with
// the reference send returns. A key delivered by an earlier run is
// skipped. The one gap is a crash after Telegram accepted the message and
// before the record: the next run finds the key reserved but unrecorded,
// counts it as uncertain and resends it or not as onUncertain says.
//
// Errors: ErrSuperseded (wrapped) if the job is no longer this run's; the
// error of send if it failed and may succeed later (the key stays
// reserved, and counts as uncertain next run, since a timed-out request
// may have reached Telegram).
func (j *Job) Deliver(ctx context.Context, key string, onUncertain Uncertain, send func(ctx context.Context) (ref string, err error)) (Outcome, error) {
	r := j.runner
	st, err := r.store.Reserve(ctx, j.claimed.ID, j.claimed.Token, key, r.lease)
	switch {
	case errors.Is(err, storage.ErrNotHolder):
		return 0, fmt.Errorf("deliver %s: %w", key, ErrSuperseded)
	case err != nil:
		return 0, fmt.Errorf("deliver %s: %w", key, err)
	}
	switch st {
	case storage.DeliveryDone:
		r.metrics.Delivery(j.claimed.Kind, "skipped")
		return AlreadyDone, nil
	case storage.DeliveryUncertain:
		r.metrics.Delivery(j.claimed.Kind, "uncertain")
		r.log.WarnContext(ctx, "delivery may have been made by a run that crashed", "job", j.claimed.ID, "key", key, "resend", onUncertain == Resend)
		if onUncertain == Skip {
			return SkippedUncertain, j.commit(ctx, key, "uncertain", true)
		}
	}
	// Messages queued by send are named after this job's version and the
	// key: a run after a crash queues the same items, which the outbox
	// already has, so even a key found uncertain is sent once.
	ref, err := send(outbox.WithOrigin(ctx, j.origin()+":"+key, 0, onUncertain == Skip))
	switch {
	case err == nil:
		r.metrics.Delivery(j.claimed.Kind, "sent")
		return Sent, j.commit(ctx, key, ref, false)
	case IsPermanent(err):
		r.metrics.Delivery(j.claimed.Kind, "unreachable")
		return Unreachable, j.commit(ctx, key, "unreachable", true)
	}
	r.metrics.Delivery(j.claimed.Kind, "failed")
	return 0, fmt.Errorf("deliver %s: %w", key, err)
}

// origin names this version of the job (its id, due time and payload):
// the same job scheduled again later is another version, whose messages
// are new.
func (j *Job) origin() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%d|", j.claimed.ID, j.claimed.DueAt.UnixMilli())
	h.Write(j.claimed.Payload)
	return "j" + hex.EncodeToString(h.Sum(nil)[:12])
}

// commit records an outcome even if ctx was cancelled meanwhile: the
// message went out, and saying so is what prevents a second one.
func (j *Job) commit(ctx context.Context, key, ref string, failed bool) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := j.runner.store.Commit(cctx, j.claimed.ID, key, ref, failed); err != nil {
		return fmt.Errorf("deliver %s: record: %w", key, err)
	}
	return nil
}

// Summary counts what a FanOut did.
type Summary struct {
	Sent        int // sent by this run
	AlreadyDone int // sent (or found unreachable) by an earlier run
	Unreachable int // could not be sent: blocked, or no private chat opened
	Skipped     int // possibly sent by a crashed run; not sent again (Skip)
	Failed      int // failed this time; the job will be retried
}

// FanOut delivers one message per key with at most workers sends at once,
// through Deliver. The sends queue the messages in the outbox, which paces
// them at Telegram's limits for every replica together, so a fan-out
// job itself ends in milliseconds. It carries on past a failed key and
// then returns an error, so the job is retried for the keys that failed;
// it stops at once if the job is superseded or ctx ends.
func FanOut(ctx context.Context, j *Job, workers int, keys []string, onUncertain Uncertain, send func(ctx context.Context, key string) (string, error)) (Summary, error) {
	workers = max(1, min(workers, len(keys)))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		sum   Summary
		first error
		wg    sync.WaitGroup
	)
	next := make(chan string)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for key := range next {
				out, err := j.Deliver(ctx, key, onUncertain, func(ctx context.Context) (string, error) { return send(ctx, key) })
				mu.Lock()
				switch {
				case err != nil:
					sum.Failed++
					if first == nil || errors.Is(err, ErrSuperseded) {
						first = err
					}
					if errors.Is(err, ErrSuperseded) {
						cancel()
					}
				case out == Sent:
					sum.Sent++
				case out == AlreadyDone:
					sum.AlreadyDone++
				case out == Unreachable:
					sum.Unreachable++
				case out == SkippedUncertain:
					sum.Skipped++
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, k := range keys {
		select {
		case next <- k:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return sum, first
}
