package handlers

import (
	"context"
	"strings"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
)

// recentClosed is how many closed ballots /ballots lists.
const recentClosed = 5

// ballotsList lists open ballots and the latest closed ones: /ballots.
func (h *Handlers) ballotsList(ctx context.Context, r *bot.Request) error {
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

func (h *Handlers) ballotLine(lang string, c domain.Committee, b domain.Ballot, voted int) string {
	deadline := ""
	if !b.Deadline.IsZero() {
		deadline = h.cat.T(lang, "ballots_until", i18n.Data{"At": h.core.shortTime(b.Deadline, c)})
	}
	return h.cat.T(lang, "ballots_open_line", i18n.Data{"ID": b.ID, "Title": b.Title, "Voted": voted,
		"Total": len(b.Voters), "Until": i18n.Raw(deadline)})
}

// ballotShow shows one ballot: /ballot <id>.
func (h *Handlers) ballotShow(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	b, ok, err := h.ballotArg(ctx, r, sc)
	if !ok || err != nil {
		return err
	}
	if b.Status == domain.BallotClosed {
		res, err := h.result(ctx, b)
		if err != nil {
			return err
		}
		text, _ := h.resultText(r.Lang, sc.committee, b, res, false)
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
						answers = append(answers, h.optionLabel(r.Lang, o))
					}
				}
			}
			text += "\n" + h.cat.T(r.Lang, "ballot_open_vote_line", i18n.Data{"Voter": v.Voter, "Name": v.Name, "Choice": strings.Join(answers, "; ")})
		}
	}
	return h.core.reply(ctx, r, text, kb)
}

// results repeats a closed ballot's result with its chart and sends its
// minutes: /results <id>.
func (h *Handlers) results(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	b, ok, err := h.ballotArg(ctx, r, sc)
	if !ok || err != nil {
		return err
	}
	if b.Status != domain.BallotClosed {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "results_not_closed", i18n.Data{"ID": b.ID}), nil)
	}
	res, err := h.result(ctx, b)
	if err != nil {
		return err
	}
	text, _ := h.resultText(r.Lang, sc.committee, b, res, false)
	if err := h.core.reply(ctx, r, text, nil); err != nil {
		return err
	}
	if chat, ok := r.Chat(); ok {
		if err := h.sendResultChart(ctx, chat.ID, r.Lang, sc.committee, b, res, answerTo(r)...); err != nil {
			return err
		}
	}
	return h.sendMinutes(ctx, r, sc.committee, b, res)
}

// statusBallots is the /status section of open ballots.
func (h *Handlers) statusBallots(ctx context.Context, lang string, c domain.Committee) (string, error) {
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
