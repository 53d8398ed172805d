package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// AfterDeadlineGrace is how long the answer to an update whose handler ran
// out of time may still take (see AfterDeadline).
const AfterDeadlineGrace = 5 * time.Second

// AfterDeadline returns ctx while it is live and, once its deadline has
// passed, a context with the same values and AfterDeadlineGrace of its
// own: a handler that ran out of time can still tell its user so, and
// answer the pressed button, where a call on the spent context would not
// leave. A cancelled context (a shutdown) is returned as it is.
func AfterDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), AfterDeadlineGrace)
}

// ErrPanic is returned by Recover when a handler panicked.
var ErrPanic = errors.New("handler panicked")

// Recover turns a handler panic into ErrPanic and logs the stack, so one bad
// update never takes the bot down.
func Recover(log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, r *Request) (err error) {
			defer func() {
				if p := recover(); p != nil {
					log.ErrorContext(ctx, "handler panicked",
						"update_id", r.UpdateID(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					err = fmt.Errorf("%w: %v", ErrPanic, p)
				}
			}()
			return next(ctx, r)
		}
	}
}

// UpdateMetrics receives one observation per handled update.
type UpdateMetrics interface {
	UpdateHandled(kind, outcome string, d time.Duration)
}

// Log logs one line per update with its id, chat, handler and duration, and
// reports it to m (which may be nil). It never logs message text: votes and
// personal data travel in it.
func Log(log *slog.Logger, m UpdateMetrics, now func() time.Time) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, r *Request) error {
			start := now()
			err := next(ctx, r)
			d := now().Sub(start)
			chat, _ := r.Chat()
			handler := r.Kind()
			switch {
			case r.Command != "":
				handler = "/" + r.Command
			case r.Route != "":
				handler = "cb:" + r.Route
			}
			outcome := "ok"
			level := slog.LevelInfo
			if err != nil {
				outcome = "error"
				level = slog.LevelError
			}
			attrs := []any{"update_id", r.UpdateID(), "chat_id", chat.ID, "handler", handler, "duration", d}
			if err != nil {
				attrs = append(attrs, "err", err.Error())
			}
			log.Log(ctx, level, "update handled", attrs...)
			if m != nil {
				m.UpdateHandled(r.Kind(), outcome, d)
			}
			return err
		}
	}
}

// Claimer records which updates were handled, so that an update delivered
// again (after a crash, a restart or a webhook retry) has no second effect.
type Claimer interface {
	// Claim reports whether the caller should handle the update now. It
	// returns false when the update was handled already or is being handled
	// by another live worker.
	Claim(ctx context.Context, updateID int) (bool, error)
	// Done marks the update as handled.
	Done(ctx context.Context, updateID int) error
}

// ErrNotClaimed is returned for an update whose claim could not be made:
// it was not handled, and must not be confirmed to Telegram (the poller
// stays before it, the webhook answers 500), so that it is delivered again.
var ErrNotClaimed = errors.New("update not claimed")

// ErrClaimStoreDown marks a claim error that says the claim store is
// certainly unreachable (the connection was refused), as opposed to an
// error after which the claim may or may not have been written.
var ErrClaimStoreDown = errors.New("claim store unreachable")

// Dedupe skips updates that were handled before. An update whose claim
// fails is not handled and returns ErrNotClaimed, so Telegram delivers it
// again — except when the claim store is certainly unreachable
// (ErrClaimStoreDown): then nothing can be recorded anywhere, and the
// update is handled so that the user is told their action was not
// recorded and is safe to repeat (handlers fail on the same store).
//
// Updates for which unclaimed reports true (a route whose handler is
// idempotent by itself, Router.Idempotent) are handled without a claim;
// unclaimed may be nil.
func Dedupe(c Claimer, log *slog.Logger, unclaimed func(*Request) bool) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, r *Request) error {
			if unclaimed != nil && unclaimed(r) {
				return next(ctx, r)
			}
			ok, err := c.Claim(ctx, r.UpdateID())
			if errors.Is(err, ErrClaimStoreDown) {
				log.WarnContext(ctx, "update claim store unreachable; answering without a claim", "update_id", r.UpdateID(), "err", err.Error())
				return next(ctx, r)
			}
			if err != nil {
				log.WarnContext(ctx, "update claim failed; left for redelivery", "update_id", r.UpdateID(), "err", err.Error())
				return fmt.Errorf("%w: %w", ErrNotClaimed, err)
			}
			if !ok {
				log.InfoContext(ctx, "duplicate update skipped", "update_id", r.UpdateID())
				return nil
			}
			herr := next(ctx, r)
			if errors.Is(herr, ErrPanic) {
				// Leave the claim to expire: the update will be tried again.
				return herr
			}
			// Recorded even when the handler used up its time: the work is
			// done, and forgetting that would let a redelivery repeat it.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := c.Done(dctx, r.UpdateID()); err != nil {
				log.WarnContext(ctx, "marking update done failed", "update_id", r.UpdateID(), "err", err.Error())
			}
			return herr
		}
	}
}

// Requester sends Bot API calls whose result is True.
type Requester interface {
	Request(ctx context.Context, c tgbotapi.Chattable) (*tgbotapi.APIResponse, error)
}

// AutoRespond answers every button press exactly once after its handler
// returns, with the text the handler set through Request.Answer (or none),
// so the user's client stops its spinner even when the handler failed. An
// update that came through the Webhook is answered in the response to
// Telegram's request (a call Telegram makes for the bot, as the Bot API
// allows), which saves a request per press; others with a call.
func AutoRespond(s Requester, log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, r *Request) error {
			// Deferred, so that a button whose handler panicked is answered
			// too before the panic reaches Recover.
			defer func() {
				cq, ok := r.Callback()
				if !ok || r.answered {
					return
				}
				ctx, cancel := AfterDeadline(ctx)
				defer cancel()
				r.answered = true
				ans, _ := r.PendingAnswer()
				if r.reply.answer(cq.ID, ans) {
					// Goes back in the answer to Telegram's webhook
					// request: no call of its own.
					return
				}
				cfg := tgbotapi.NewCallback(cq.ID, ans.Text)
				cfg.ShowAlert = ans.Alert
				if _, err := s.Request(ctx, cfg); err != nil {
					log.WarnContext(ctx, "answering callback failed", "update_id", r.UpdateID(), "err", err.Error())
				}
			}()
			return next(ctx, r)
		}
	}
}
