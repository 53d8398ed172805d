package handlers

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// nominationStatus moves a nomination along its lifecycle:
// /nomination_status <id> <status> [note] (admins). With the id alone it
// lists the statuses the nomination may move to.
func (h *nominationHandlers) nominationStatus(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	idText, rest, _ := strings.Cut(strings.TrimSpace(r.Args), " ")
	statusText, note, _ := strings.Cut(strings.TrimSpace(rest), " ")
	if idText == "" {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "nomination_status_usage", nil), nil)
	}
	n, found, err := h.loadNomination(ctx, r, sc.committee, idText, "nomination_status_usage")
	if !found || err != nil {
		return err
	}
	if statusText == "" {
		return h.core.reply(ctx, r, h.illegalMoveText(r.Lang, n, "")+"\n\n"+h.cat.T(r.Lang, "nomination_status_usage", nil), nil)
	}
	to, ok := domain.ParseStatus(statusText)
	if !ok {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "nomination_bad_status", i18n.Data{"Status": truncate(statusText, 30)})+"\n"+h.illegalMoveText(r.Lang, n, ""), nil)
	}
	text, err := h.moveNomination(ctx, r, sc.committee, n, to, note)
	if err != nil {
		return err
	}
	return h.core.reply(ctx, r, text, nil)
}

// withdraw withdraws a nomination: /withdraw <id> [note], by a delegate of
// the nominating unit or an admin, until it is forwarded.
func (h *nominationHandlers) withdraw(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	idText, note, _ := strings.Cut(strings.TrimSpace(r.Args), " ")
	if idText == "" {
		return h.pickNomination(ctx, r, sc)
	}
	n, found, err := h.loadNomination(ctx, r, sc.committee, idText, "withdraw_usage")
	if !found || err != nil {
		return err
	}
	if !sc.admin && (sc.delegate == nil || sc.delegate.Unit != n.Unit) {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "withdraw_not_yours", i18n.Data{"ID": n.ID, "Unit": n.Unit}), nil)
	}
	text, err := h.moveNomination(ctx, r, sc.committee, n, domain.StatusWithdrawn, note)
	if err != nil {
		return err
	}
	return h.core.reply(ctx, r, text, nil)
}

// moveNomination changes n's status to to on behalf of the caller, who
// has been checked to be allowed to, and tells the nominating unit's
// delegates. It returns the answer for the caller: what changed and who
// was told, why the move is not possible (with the moves that are), or
// that someone else changed the status first.
func (h *nominationHandlers) moveNomination(ctx context.Context, r *bot.Request, c domain.Committee, n domain.Nomination, to domain.Status, note string) (string, error) {
	user, _ := r.Sender()
	if !domain.CanMove(n.Status, to) {
		return h.illegalMoveText(r.Lang, n, to), nil
	}
	if domain.ValidNote(note) != nil {
		return h.cat.T(r.Lang, "nomination_note_too_long", i18n.Data{"Max": domain.MaxNoteLen}), nil
	}
	ch := domain.Change{From: n.Status, To: to, By: user.ID, ByName: user.DisplayName(), Note: note}
	if domain.DecidedByBallot(n.Status, to) {
		// The bloc's vote decides; a person records a decision taken
		// outside the bot only with its reason.
		ch.Override = true
		if ch.CheckDecision() != nil {
			return h.ballotDecidesText(ctx, r.Lang, c, n, to)
		}
	}
	moved, err := h.nominations.Transition(ctx, c.ID, n.ID, ch)
	var onBallot *domain.NominationOnBallotError
	switch {
	case errors.As(err, &onBallot):
		return h.cat.T(r.Lang, "nomination_on_open_ballot", i18n.Data{"ID": n.ID, "Ballot": onBallot.Ballot}), nil
	case errors.Is(err, storage.ErrConflict):
		return h.cat.T(r.Lang, "nomination_conflict", i18n.Data{"ID": n.ID, "Status": i18n.Raw(h.core.statusLabel(r.Lang, moved.Status))}), nil
	case errors.Is(err, storage.ErrNotFound):
		return h.cat.T(r.Lang, "nomination_unknown", i18n.Data{"ID": n.ID}), nil
	case err != nil:
		return "", err
	}
	last := moved.LastChange()
	sent, err := h.announceChange(ctx, c, moved, user.ID)
	if err != nil {
		return "", err
	}
	return h.cat.T(r.Lang, "nomination_moved", i18n.Data{
		"ID": moved.ID, "From": i18n.Raw(h.core.statusLabel(r.Lang, last.From)), "To": i18n.Raw(h.core.statusLabel(r.Lang, last.To)),
	}) + h.notifiedText(r.Lang, moved.Unit, sent), nil
}

// ballotDecidesText explains why n cannot be approved or rejected by hand:
// its open ballot decides (pointing at it), or, with none open, a ballot
// should be held, and how to record a decision taken outside the bot with
// its reason.
func (h *nominationHandlers) ballotDecidesText(ctx context.Context, lang string, c domain.Committee, n domain.Nomination, to domain.Status) (string, error) {
	inBallot, err := h.nominationsInOpenBallots(ctx, c.ID)
	if err != nil {
		return "", err
	}
	if b := inBallot[strconv.FormatInt(n.ID, 10)]; b != "" {
		return h.cat.T(lang, "nomination_on_open_ballot", i18n.Data{"ID": n.ID, "Ballot": b}), nil
	}
	return h.cat.T(lang, "nomination_ballot_decides", i18n.Data{
		"ID": n.ID, "Award": n.Award, "To": string(to), "Min": domain.MinOverrideReason,
	}), nil
}

// announceChange tells the delegates of n's unit, except the user who
// made the change, about n's latest change. Every status change must be
// announced, whoever makes it (an admin's command or button, a ballot's
// result); see notifyUnit for the counts.
func (h *nominationHandlers) announceChange(ctx context.Context, c domain.Committee, n domain.Nomination, except int64) (queued int, err error) {
	ch := n.LastChange()
	return h.notifyUnit(ctx, c, n.Unit, except, func(lang string) string {
		return h.changeNotice(lang, c, n, ch)
	})
}

// changeNotice is what a delegate of the nominating unit is told about a
// change.
func (h *nominationHandlers) changeNotice(lang string, c domain.Committee, n domain.Nomination, ch domain.Change) string {
	by := ch.ByName
	if ch.By == 0 && by == "" {
		by = h.cat.T(lang, "nomination_by_bot", nil)
	}
	return h.cat.T(lang, "nomination_changed_notice", i18n.Data{
		"ID": n.ID, "Committee": c.Name, "Award": awardName(h.awards, n.Award, lang), "Nominee": n.Nominee, "Unit": n.Unit,
		"From": i18n.Raw(h.core.statusLabel(lang, ch.From)), "To": i18n.Raw(h.core.statusLabel(lang, ch.To)), "By": by, "Note": ch.Note,
	})
}

// illegalMoveText explains that n cannot move to to (or, with to empty,
// where it can move), listing the allowed statuses as typed in commands.
func (h *nominationHandlers) illegalMoveText(lang string, n domain.Nomination, to domain.Status) string {
	moves := domain.Moves(n.Status)
	cur := i18n.Raw(h.core.statusLabel(lang, n.Status))
	if len(moves) == 0 {
		return h.cat.T(lang, "nomination_final", i18n.Data{"ID": n.ID, "Status": cur})
	}
	opts := make([]string, len(moves))
	for i, m := range moves {
		opts[i] = h.cat.T(lang, "nomination_move_option", i18n.Data{"Code": string(m), "Label": i18n.Raw(h.core.statusLabel(lang, m))})
	}
	data := i18n.Data{"ID": n.ID, "Status": cur, "Moves": i18n.Raw(strings.Join(opts, ", "))}
	if to == "" {
		return h.cat.T(lang, "nomination_moves", data)
	}
	data["To"] = i18n.Raw(h.core.statusLabel(lang, to))
	return h.cat.T(lang, "nomination_illegal_move", data)
}

// nominationMoveButton applies a status button of the card:
// nmv:<committee>:<id>:<from>:<to>. The presser must administer that
// committee; the move applies only if the nomination is still in <from>.
// The card is redrawn as the nomination now is.
func (h *nominationHandlers) nominationMoveButton(ctx context.Context, r *bot.Request, sc scope, p []string) error {
	id, err := strconv.ParseInt(p[0], 10, 64)
	from, fromOK := domain.ParseStatus(p[1])
	to, toOK := domain.ParseStatus(p[2])
	if err != nil || !fromOK || !toOK {
		h.core.unknownButton(r)
		return nil
	}
	n, err := h.nominations.Get(ctx, sc.committee.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		h.core.unknownButton(r)
		return nil
	}
	if err != nil {
		return err
	}
	var answer string
	if n.Status != from {
		answer = h.cat.T(r.Lang, "nomination_conflict", i18n.Data{"ID": n.ID, "Status": i18n.Raw(h.core.statusLabel(r.Lang, n.Status))})
	} else {
		if answer, err = h.moveNomination(ctx, r, sc.committee, n, to, ""); err != nil {
			return err
		}
		if n, err = h.nominations.Get(ctx, sc.committee.ID, id); err != nil {
			return err
		}
	}
	r.Answer(plain(answer), true)
	text, kb, err := h.nominationCardFor(ctx, r.Lang, sc, n)
	if err != nil {
		return err
	}
	// A long card was sent in parts, the buttons under the last.
	parts := splitMessage(text, maxMessage)
	return h.core.editCallback(ctx, r, parts[len(parts)-1], kb)
}

// nominationsInOpenBallots maps each nomination an open ballot is voting
// on (its id) to that ballot's id.
func (h *nominationHandlers) nominationsInOpenBallots(ctx context.Context, committeeID string) (map[string]string, error) {
	ballots, err := h.ballots.List(ctx, committeeID)
	if err != nil {
		return nil, err
	}
	in := map[string]string{}
	for _, b := range ballots {
		if b.Status != domain.BallotOpen || b.Kind != domain.KindNominations {
			continue
		}
		for _, q := range b.Questions {
			in[q.Nomination] = b.ID
		}
	}
	return in, nil
}

// nominationsResult moves each nomination of a closed nominations ballot
// to approved or rejected (a void ballot rejects nothing: the nominations
// go back under review), and tells the nominating units.
func (h *nominationHandlers) nominationsResult(ctx context.Context, b domain.Ballot, r domain.Result) error {
	c, err := h.committees.Get(ctx, b.Committee)
	if err != nil {
		return err
	}
	var errs []error
	for i, q := range b.Questions {
		id, err := strconv.ParseInt(q.Nomination, 10, 64)
		if err != nil || i >= len(r.Questions) {
			continue
		}
		to := domain.StatusRejected
		switch r.Questions[i].Outcome {
		case domain.OutcomePassed:
			to = domain.StatusApproved
		case domain.OutcomeVoid:
			// Nothing was decided: the nomination stays in voting, ready
			// for a new /ballot_nominations.
			continue
		}
		note := h.cat.T(h.cat.Default(), "ballot_nominations_note", i18n.Data{"ID": b.ID,
			"Votes": r.Questions[i].Counts[0].Votes, "Need": r.Questions[i].Needed, "Total": r.Electorate})
		n, err := h.nominations.Transition(ctx, b.Committee, id, domain.Change{From: domain.StatusVoting, To: to, Note: plain(note)})
		if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
			continue // already moved (a second close, or an admin)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := h.announceChange(ctx, c, n, 0); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
