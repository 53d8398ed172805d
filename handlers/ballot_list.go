package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// recentClosed is how many closed ballots /ballots lists.
const recentClosed = 5

// ballotsList lists open ballots and the latest closed ones: /ballots.
func (h *votingHandlers) ballotsList(ctx context.Context, r *bot.Request) error {
	c := scopeOf(r).committee
	all, err := h.ballots.List(ctx, c.ID)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "ballots_none", nil), nil)
	}
	var open, closed []string
	for _, b := range all {
		if b.Status == domain.BallotOpen {
			voted, err := h.ballots.Voted(ctx, c.ID, b.ID)
			if err != nil {
				return err
			}
			open = append(open, h.ballotLine(r.Lang, c, b, len(voted)))
		} else if len(closed) < recentClosed {
			closed = append(closed, h.cat.T(r.Lang, "ballots_closed_line", i18n.Data{"ID": b.ID, "Title": b.Title,
				"At": b.Closed.In(c.Location()).Format("02/01/2006")}))
		}
	}
	var s strings.Builder
	s.WriteString(h.cat.T(r.Lang, "ballots_title", nil))
	if len(open) > 0 {
		s.WriteString("\n\n" + h.cat.T(r.Lang, "ballots_open", nil) + "\n" + strings.Join(open, "\n"))
	}
	if len(closed) > 0 {
		s.WriteString("\n\n" + h.cat.T(r.Lang, "ballots_recent", nil) + "\n" + strings.Join(closed, "\n"))
	}
	return h.core.reply(ctx, r, s.String(), nil)
}

func (h *votingHandlers) ballotLine(lang string, c domain.Committee, b domain.Ballot, voted int) string {
	deadline := ""
	if !b.Deadline.IsZero() {
		deadline = h.cat.T(lang, "ballots_until", i18n.Data{"At": h.core.shortTime(b.Deadline, c)})
	}
	return h.cat.T(lang, "ballots_open_line", i18n.Data{"ID": b.ID, "Title": b.Title, "Voted": voted,
		"Total": len(b.Voters), "Until": i18n.Raw(deadline)})
}

// ballotShow shows one ballot: /ballot <id>.
func (h *votingHandlers) ballotShow(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	b, ok, err := h.ballotArg(ctx, r, sc)
	if !ok || err != nil {
		return err
	}
	if b.Status == domain.BallotClosed {
		res, err := h.results.result(ctx, b)
		if err != nil {
			return err
		}
		text, _ := h.results.resultText(r.Lang, sc.committee, b, res, false)
		return h.core.reply(ctx, r, text, nil)
	}
	voted, err := h.ballots.Voted(ctx, b.Committee, b.ID)
	if err != nil {
		return err
	}
	text, kb := h.ballotPost(r.Lang, sc.committee, b, len(voted))
	if !b.Secret {
		votes, err := h.ballots.OpenVotes(ctx, b.Committee, b.ID)
		if err != nil {
			return err
		}
		for _, v := range votes {
			var answers []string
			for _, q := range b.Questions {
				for _, o := range q.Options {
					if v.Choice[q.ID] == o.Key {
						answers = append(answers, h.core.optionLabel(r.Lang, o))
					}
				}
			}
			text += "\n" + h.cat.T(r.Lang, "ballot_open_vote_line", i18n.Data{"Voter": v.Voter, "Name": v.Name, "Choice": strings.Join(answers, "; ")})
		}
	}
	return h.core.reply(ctx, r, text, kb)
}

// statusBallots is the /status section of open ballots.
func (h *votingHandlers) statusBallots(ctx context.Context, lang string, c domain.Committee) (string, error) {
	all, err := h.ballots.List(ctx, c.ID)
	if err != nil {
		return "", err
	}
	var lines []string
	for _, b := range all {
		if b.Status != domain.BallotOpen {
			continue
		}
		voted, err := h.ballots.Voted(ctx, c.ID, b.ID)
		if err != nil {
			return "", err
		}
		lines = append(lines, h.ballotLine(lang, c, b, len(voted)))
	}
	if len(lines) == 0 {
		return "", nil
	}
	return h.cat.T(lang, "status_ballots", nil) + "\n" + strings.Join(lines, "\n"), nil
}

// ballotArg loads the ballot named by the first argument, answering the
// user when there is none.
func (h *votingHandlers) ballotArg(ctx context.Context, r *bot.Request, sc scope) (domain.Ballot, bool, error) {
	id, _, _ := strings.Cut(strings.TrimSpace(r.Args), " ")
	if id == "" && pickable[r.Command] {
		return domain.Ballot{}, false, h.pickBallot(ctx, r, sc)
	}
	if id == "" {
		return domain.Ballot{}, false, h.ballotsList(ctx, r)
	}
	b, err := h.ballots.Get(ctx, sc.committee.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return b, false, h.core.reply(ctx, r, h.cat.T(r.Lang, "ballot_unknown", i18n.Data{"ID": truncate(id, 20)}), nil)
	}
	return b, err == nil, err
}

// pickBallot answers a ballot command sent without a number: the ballots
// it can act on, newest first.
func (h *votingHandlers) pickBallot(ctx context.Context, r *bot.Request, sc scope) error {
	all, err := h.ballots.List(ctx, sc.committee.ID)
	if err != nil {
		return err
	}
	slices.SortFunc(all, func(a, b domain.Ballot) int { return numericDesc(a.ID, b.ID) })
	want := func(b domain.Ballot) bool { return b.Status == domain.BallotOpen }
	noneID := "pick_no_open_ballot"
	switch r.Command {
	case "results":
		want, noneID = func(b domain.Ballot) bool { return b.Status == domain.BallotClosed }, "pick_no_closed_ballot"
	case "runoff":
		want = func(b domain.Ballot) bool {
			return b.Status == domain.BallotClosed && b.Kind == domain.KindElection && b.Round < domain.MaxRounds
		}
		noneID = "pick_no_election"
	case "minutes_info":
		want, noneID = func(domain.Ballot) bool { return true }, "ballots_none"
	}
	var choices []choice
	for _, b := range all {
		if want(b) {
			choices = append(choices, choice{label: fmt.Sprintf("#%s · %s", b.ID, b.Title), arg: b.ID})
		}
	}
	return h.core.pickOrTell(ctx, r, sc.committee, "pick_ballot", choices, noneID, nil)
}
