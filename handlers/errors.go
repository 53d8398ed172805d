package handlers

import (
	"context"
	"errors"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// errorReplies is the error table: a rule error that has one answer
// wherever it comes from, with the catalogue id of that answer. A handler
// returns such an error (wrapped with withData when the message names
// something: a ballot's id, a voter) and Errors answers it.
//
// Not in the table, and answered where they happen:
//   - storage.ErrNotFound and storage.ErrConflict: what was not found, or
//     changed meanwhile, depends on the call (a ballot, a meeting, an
//     invite token), and often it is not a refusal at all (no language
//     chosen, no dialogue);
//   - an error whose answer is more than a message: a move of delegate
//     (domain.MoveError asks with buttons), a unit or nomination on an open
//     ballot (the ballot's id in the refusal, next to the unit's code), a
//     duplicate nomination (domain.ErrDuplicateNomination: the existing
//     nomination the store returns with it is described);
//   - a refusal shown other than as the answer to its request: an RSVP's
//     refusal is the button's alert, a read-only meeting shows its state;
//   - a refusal answered as a reply although its request may be a button
//     press: a command a picker runs (pickers.go) comes as the picker's
//     button, and is answered with a new message, as if typed. So the
//     personal ballot's own checks before a vote (showPersonalBallot:
//     closed, past the deadline, not an elector, voted already) and
//     domain.ErrRunoffExists (/runoff, which a picker runs) stay where
//     they happen; the same refusals of the vote's cast, always a press of
//     the ballot's Submit button, are the table's.
var errorReplies = []struct {
	err error
	id  string
}{
	{domain.ErrInviteUsed, "invite_used"},
	{domain.ErrInviteExpired, "invite_expired"},
	// The vote's refusals, with the ballot's ID and the Voter's label.
	{domain.ErrBallotClosed, "vote_closed"},
	{domain.ErrDeadlinePassed, "vote_deadline"},
	{domain.ErrNotEligible, "vote_not_eligible"},
	{domain.ErrAlreadyVoted, "vote_already_unit"},
}

// dataError carries the data of a table message along with its error.
type dataError struct {
	err  error
	data i18n.Data
}

func (e *dataError) Error() string { return e.err.Error() }
func (e *dataError) Unwrap() error { return e.err }

// withData attaches to err the data its table message names; nil stays nil.
func withData(err error, data i18n.Data) error {
	if err == nil {
		return nil
	}
	return &dataError{err: err, data: data}
}

// tableReply is the catalogue id and data answering err, if the table has
// its error.
func tableReply(err error) (string, i18n.Data, bool) {
	for _, e := range errorReplies {
		if errors.Is(err, e.err) {
			var de *dataError
			var data i18n.Data
			if errors.As(err, &de) {
				data = de.data
			}
			return e.id, data, true
		}
	}
	return "", nil, false
}

// Errors is the one place that turns handler errors into what a user sees.
// An error of the table (errorReplies) is a refusal, not a failure: it is
// answered — a command with a reply, a pressed button by editing the
// button's message — and not returned. A handler that ran out of its time
// tells the user the action may be half done (look before repeating),
// Redis being unreachable becomes "not recorded, safe to repeat", anything
// else a short apology, shown as
// the button's alert for a press; those are still returned so that they
// are logged once, with the update id, by the log middleware.
func (h *core) Errors(next bot.Handler) bot.Handler {
	return func(ctx context.Context, r *bot.Request) error {
		err := next(ctx, r)
		if err == nil {
			return nil
		}
		// A handler out of its time answers on a few seconds of its own.
		timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
		ctx, cancel := bot.AfterDeadline(ctx)
		defer cancel()
		if id, data, ok := tableReply(err); ok {
			text := h.cat.T(r.Lang, id, data)
			if _, ok := r.Callback(); ok {
				return h.editCallback(ctx, r, text, nil)
			}
			return h.reply(ctx, r, text, nil)
		}
		var id string
		switch {
		case errors.Is(err, context.Canceled):
			return err
		case timedOut:
			// Part of the work may be done (a meeting created before a
			// call to Telegram hung): not "safe to repeat".
			id = "error_timeout"
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
