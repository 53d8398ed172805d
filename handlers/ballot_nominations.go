package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// ballotNominations opens an approval vote on every nomination under
// review for an award: /ballot_nominations <AWARD> [options]. The
// nominations move to voting; at close to approved or rejected.
func (h *Handlers) ballotNominations(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	rest, opts := splitOptions(r.Args)
	o, err := h.ballotOptions(opts, sc.committee)
	if err != nil {
		return h.replyOptionError(ctx, r, err)
	}
	if rest == "" && len(opts) == 0 {
		return h.pickAward(ctx, r, sc)
	}
	award, ok := domain.FindAward(h.awards, rest)
	if rest == "" || !ok {
		return h.reply(ctx, r, h.cat.T(r.Lang, "ballot_nominations_usage", i18n.Data{"Award": truncate(rest, 20)}), nil)
	}
	all, err := h.nominations.List(ctx, sc.committee.ID)
	if err != nil {
		return err
	}
	inBallot, err := h.nominationsInOpenBallots(ctx, sc.committee.ID)
	if err != nil {
		return err
	}
	// Nominations under review, and those left in voting by a ballot that
	// decided nothing (no quorum) and is closed.
	var picked []domain.Nomination
	for _, n := range all {
		if n.Award != award.Code {
			continue
		}
		if awaitsBallot(n, inBallot) {
			picked = append(picked, n)
		}
	}
	if len(picked) == 0 {
		return h.reply(ctx, r, h.cat.T(r.Lang, "ballot_nominations_none", i18n.Data{"Award": award.Code}), nil)
	}
	if len(picked) > maxQuestions {
		return h.reply(ctx, r, h.cat.T(r.Lang, "ballot_nominations_many", i18n.Data{"Max": maxQuestions, "Count": len(picked)}), nil)
	}
	lang := h.cat.Default()
	b := domain.Ballot{
		Kind:  domain.KindNominations,
		Award: award.Code,
		Year:  sc.committee.Year,
		Title: h.cat.T(lang, "ballot_nominations_title", i18n.Data{"Award": award.Name(lang), "Year": sc.committee.Year}),
	}
	units, err := h.committees.Units(ctx, sc.committee.ID)
	if err != nil {
		return err
	}
	for i, n := range picked {
		text := fmt.Sprintf("%s (%s) — /nomination %d", n.Nominee, n.Unit, n.ID)
		if u, ok := findUnit(units, n.NomineeUnit); ok {
			// A unit nominated: its full name says more than its code twice.
			text = fmt.Sprintf("%s — %s — /nomination %d", u.Code, u.Name, n.ID)
		}
		q := domain.Question{
			ID:         strconv.Itoa(i + 1),
			Text:       text,
			Nomination: strconv.FormatInt(n.ID, 10),
			Threshold:  award.Threshold,
			Options:    []domain.Option{{Key: domain.OptApprove}, {Key: domain.OptReject}, {Key: domain.OptAbstain}},
		}
		if o.threshold != nil {
			q.Threshold = *o.threshold
		}
		b.Questions = append(b.Questions, q)
	}
	// Move the nominations to voting first: one that someone else moved
	// meanwhile is left out of the ballot.
	var moved []domain.Question
	user, _ := r.Sender()
	for i, n := range picked {
		if n.Status == domain.StatusVoting {
			moved = append(moved, b.Questions[i])
			continue
		}
		nv, err := h.nominations.Transition(ctx, sc.committee.ID, n.ID, domain.Change{
			From: domain.StatusUnderReview, To: domain.StatusVoting, By: user.ID, ByName: user.DisplayName(),
		})
		if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		// Every status change is told to the nominating unit.
		if _, err := h.announceChange(ctx, sc.committee, nv, user.ID); err != nil {
			return err
		}
		moved = append(moved, b.Questions[i])
	}
	if len(moved) == 0 {
		return h.reply(ctx, r, h.cat.T(r.Lang, "ballot_nominations_none", i18n.Data{"Award": award.Code}), nil)
	}
	for i := range moved {
		moved[i].ID = strconv.Itoa(i + 1)
	}
	b.Questions = moved
	return h.openBallot(ctx, r, b, o, true)
}

// awaitsBallot reports whether a ballot on n's award would take it: under
// review, or left in voting by a ballot that decided nothing and is
// closed (inBallot as nominationsInOpenBallots gives it).
func awaitsBallot(n domain.Nomination, inBallot map[string]string) bool {
	return n.Status == domain.StatusUnderReview ||
		n.Status == domain.StatusVoting && inBallot[strconv.FormatInt(n.ID, 10)] == ""
}

// nominationsInOpenBallots maps each nomination an open ballot is voting
// on (its id) to that ballot's id.
func (h *Handlers) nominationsInOpenBallots(ctx context.Context, committeeID string) (map[string]string, error) {
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
func (h *Handlers) nominationsResult(ctx context.Context, b domain.Ballot, r domain.Result) error {
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
