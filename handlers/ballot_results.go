package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// resultHandlers are the ballots from their close on: closing (/close,
// its button, the deadline's job, the last vote), counting and announcing
// the result and its chart, a runoff, reminders to non-voters, the
// minutes and what the secretariat records for them.
type resultHandlers struct {
	core *core
	// voting redraws a closed ballot's post and reads a ballot argument.
	voting *votingHandlers
	// nominationRoom updates the nominations a closed ballot decided.
	nominationRoom *nominationHandlers
	cat            *i18n.Catalog
	committees     CommitteeStore
	ballots        BallotStore
	jobs           JobScheduler
	// chartSlot lets one result chart be drawn at a time in this process
	// (about 0.1 s of CPU each), so that charts of ballots closing
	// together leave a core to the votes.
	chartSlot  chan struct{}
	chartDelay time.Duration
	log        *slog.Logger
	now        func() time.Time
	send       Sender
}

// result returns the stored tally, counting the ballot first if needed.
// Replicas counting at once store the same result; the first one stays.
func (h *resultHandlers) result(ctx context.Context, b domain.Ballot) (domain.Result, error) {
	r, err := h.ballots.Result(ctx, b.Committee, b.ID)
	if err == nil || !errors.Is(err, storage.ErrNotFound) {
		return r, err
	}
	var choices []domain.Choice
	var receipts []domain.Receipt
	var votes []domain.OpenVote
	if b.Secret {
		if choices, receipts, err = h.ballots.OpenBox(ctx, b); err != nil {
			return r, err
		}
	} else {
		if votes, err = h.ballots.OpenVotes(ctx, b.Committee, b.ID); err != nil {
			return r, err
		}
		for _, v := range votes {
			choices = append(choices, v.Choice)
		}
	}
	r = b.Tally(choices)
	r.Receipts, r.Votes = receipts, votes
	return h.ballots.SaveResult(ctx, b.Committee, b.ID, r)
}

// resultText renders a closed ballot's result; for an election won by a
// unit, admins get a button to apply the role.
func (h *resultHandlers) resultText(lang string, c domain.Committee, b domain.Ballot, r domain.Result, withButtons bool) (string, *tgbotapi.InlineKeyboardMarkup) {
	var s strings.Builder
	s.WriteString(h.cat.T(lang, "result_title", i18n.Data{"Title": b.Title, "ID": b.ID}))
	if !b.Closed.IsZero() {
		s.WriteString("\n" + h.cat.T(lang, "result_closed_at", i18n.Data{"At": b.Closed.In(c.Location()).Format("15:04 02/01/2006")}))
	}
	valid := "result_valid"
	if !r.Valid {
		valid = "result_void"
	}
	s.WriteString("\n" + h.cat.T(lang, valid, i18n.Data{"Turnout": r.Turnout, "Total": r.Electorate, "Need": r.QuorumNeed}))
	disclosed := b.Disclosed(r)
	if !disclosed {
		s.WriteString("\n" + h.cat.T(lang, "result_withheld", i18n.Data{"Min": domain.MinDisclosedSecret}))
	}
	options := map[string]map[string]domain.Option{}
	for _, q := range b.Questions {
		options[q.ID] = map[string]domain.Option{}
		for _, o := range q.Options {
			options[q.ID][o.Key] = o
		}
	}
	var kb *tgbotapi.InlineKeyboardMarkup
	for i, qr := range r.Questions {
		q := b.Questions[i]
		s.WriteString("\n\n")
		if len(b.Questions) > 1 {
			s.WriteString(fmt.Sprintf("%d. ", i+1))
		}
		s.WriteString("<b>" + escape(q.Text) + "</b>")
		for _, cnt := range qr.Counts {
			if !disclosed {
				break
			}
			s.WriteString("\n   " + h.cat.T(lang, "result_count", i18n.Data{
				"Option": h.core.optionLabel(lang, options[q.ID][cnt.Key]), "Votes": cnt.Votes,
				"Percent": h.percent(lang, cnt.Percent)}))
		}
		s.WriteString("\n   " + h.cat.T(lang, "result_needed", i18n.Data{"Need": qr.Needed, "Threshold": h.shareText(lang, q.Threshold)}))
		s.WriteString("\n   " + h.outcomeText(lang, b, qr, options[q.ID]))
	}
	if b.Kind == domain.KindElection && len(r.Questions) > 0 {
		q := r.Questions[0]
		switch {
		case q.Outcome == domain.OutcomePassed && (b.Role == domain.RoleHead || b.Role == domain.RoleDeputy) && withButtons:
			k := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(
				h.cat.T(lang, "btn_apply_role", i18n.Data{"Code": q.Winner, "Role": h.core.roleName(lang, b.Role), "Year": b.Year}),
				routeApplyRole.data(b.Committee, b.ID))))
			kb = &k
		case len(b.RunoffCandidates(r)) > 0:
			s.WriteString("\n\n" + h.cat.T(lang, "result_runoff", i18n.Data{"ID": b.ID, "Units": strings.Join(b.RunoffCandidates(r), ", ")}))
		case q.Outcome != domain.OutcomePassed && b.Round >= domain.MaxRounds:
			s.WriteString("\n\n" + h.cat.T(lang, "result_leaders_decide", nil))
		}
	}
	s.WriteString("\n\n" + h.cat.T(lang, "result_minutes", i18n.Data{"ID": b.ID}))
	return s.String(), kb
}

func (h *resultHandlers) outcomeText(lang string, b domain.Ballot, qr domain.QuestionResult, opts map[string]domain.Option) string {
	switch qr.Outcome {
	case domain.OutcomeVoid:
		return h.cat.T(lang, "outcome_void", nil)
	case domain.OutcomeTie:
		return h.cat.T(lang, "outcome_tie", i18n.Data{"Units": strings.Join(qr.Tied, ", ")})
	case domain.OutcomePassed:
		if b.Kind == domain.KindElection {
			return h.cat.T(lang, "outcome_elected", i18n.Data{"Unit": h.core.optionLabel(lang, opts[qr.Winner])})
		}
		return h.cat.T(lang, "outcome_passed", nil)
	}
	if b.Kind == domain.KindElection {
		return h.cat.T(lang, "outcome_no_winner", nil)
	}
	return h.cat.T(lang, "outcome_failed", nil)
}

// shareText names a share of the electorate for people: "quá nửa" for a
// majority, else the share itself ("80%", "2/3").
func (h *resultHandlers) shareText(lang string, t domain.Threshold) string {
	if t.IsMajority() || !t.Valid() {
		return h.cat.T(lang, "share_majority", nil)
	}
	return strings.ReplaceAll(t.String(), ".", h.cat.T(lang, "min_decimal", nil))
}

// percent formats a percentage with the language's decimal separator.
func (h *resultHandlers) percent(lang string, p float64) string {
	return strings.ReplaceAll(fmt.Sprintf("%.1f", p), ".", h.cat.T(lang, "min_decimal", nil))
}

// results repeats a closed ballot's result with its chart and sends its
// minutes: /results <id>.
func (h *resultHandlers) results(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	b, ok, err := h.voting.ballotArg(ctx, r, sc)
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
