package handlers

import (
	"context"
	"errors"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/storage"
)

// Errors is the one place that turns handler errors into what a user sees:
// Redis being unreachable becomes "not recorded, safe to repeat", anything
// else a short apology. The error is still returned so it is logged once,
// with the update id, by the log middleware.
func (h *core) Errors(next bot.Handler) bot.Handler {
	return func(ctx context.Context, r *bot.Request) error {
		err := next(ctx, r)
		if err == nil {
			return nil
		}
		var id string
		switch {
		case errors.Is(err, context.Canceled):
			return err
		case storage.IsUnavailable(err):
			id = "error_unavailable"
		case bot.IsBlocked(err), bot.IsChatNotFound(err):
			// Nobody to tell.
			return err
		default:
			id = "error_internal"
		}
		text := h.cat.T(r.Lang, id, nil)
		if _, ok := r.Callback(); ok {
			r.Answer(plain(text), true)
			return err
		}
		if rerr := h.reply(ctx, r, text, nil); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
}
