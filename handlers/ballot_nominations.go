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
func (h *votingHandlers) ballotNominations(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	rest, opts := splitOptions(r.Args)
	o, err := h.ballotOptions(opts, sc.committee)
	if err != nil {
		return h.replyOptionError(ctx, r, err)
	}
	if rest == "" && len(opts) == 0 {
		return h.nominationRoom.pickAward(ctx, r, sc)
	}
	award, ok := domain.FindAward(h.awards, rest)
	if rest == "" || !ok {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "ballot_nominations_usage", i18n.Data{"Award": truncate(rest, 20)}), nil)
	}
	all, err := h.nominations.List(ctx, sc.committee.ID)
	if err != nil {
		return err
	}
	inBallot, err := h.nominationRoom.nominationsInOpenBallots(ctx, sc.committee.ID)
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
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "ballot_nominations_none", i18n.Data{"Award": award.Code}), nil)
	}
	if len(picked) > maxQuestions {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "ballot_nominations_many", i18n.Data{"Max": maxQuestions, "Count": len(picked)}), nil)
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
		if _, err := h.nominationRoom.announceChange(ctx, sc.committee, nv, user.ID); err != nil {
			return err
		}
		moved = append(moved, b.Questions[i])
	}
	if len(moved) == 0 {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "ballot_nominations_none", i18n.Data{"Award": award.Code}), nil)
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
