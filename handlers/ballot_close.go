package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// CloseBallot closes a ballot, counts it and has the result announced
// once. The deadline's job, /close and the last vote call it. Closing is
// idempotent, and the announcement is a job of its own (one per ballot,
// scheduled by every caller: the same job), so a stop anywhere after the
// close cannot lose the result, nor a second caller post it twice; the
// voter whose vote closed the ballot does not wait for the chart to be
// drawn.
func (h *Handlers) CloseBallot(ctx context.Context, committeeID, ballotID string) error {
	return h.closeBallot(ctx, committeeID, ballotID)
}

func (h *Handlers) closeBallot(ctx context.Context, committeeID, ballotID string) error {
	if h.jobs != nil {
		// The announcement's job first, then the close: a stop between
		// the two leaves a job that closes the ballot and announces it.
		if err := h.scheduleResult(ctx, committeeID, ballotID); err != nil {
			return err
		}
	}
	closedNow, c, b, r, err := h.closeAndCount(ctx, committeeID, ballotID)
	if err != nil || b.ID == "" || h.jobs != nil || !closedNow {
		return err
	}
	// Without a scheduler (handlers tested alone): at once.
	if err := h.announceResult(ctx, c, b, r); err != nil || c.ChatID == 0 {
		return err
	}
	return h.sendResultChart(ctx, c.ChatID, h.core.chatLang(ctx, c.ChatID), c, b, r, inTopic(c))
}

// closeAndCount closes the ballot (reporting whether this call did),
// counts it, and applies what the result decides that is safe to apply
// again (moving voted nominations, idempotent by their expected status).
func (h *Handlers) closeAndCount(ctx context.Context, committeeID, ballotID string) (bool, domain.Committee, domain.Ballot, domain.Result, error) {
	var c domain.Committee
	closedNow, err := h.ballots.Close(ctx, committeeID, ballotID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, c, domain.Ballot{}, domain.Result{}, nil
	}
	if err != nil {
		return false, c, domain.Ballot{}, domain.Result{}, err
	}
	b, err := h.ballots.Get(ctx, committeeID, ballotID)
	if err != nil {
		return false, c, b, domain.Result{}, err
	}
	r, err := h.result(ctx, b)
	if err != nil {
		return false, c, b, r, err
	}
	if c, err = h.committees.Get(ctx, committeeID); err != nil {
		return false, c, b, r, err
	}
	if b.Kind == domain.KindNominations {
		if err := h.nominationRoom.nominationsResult(ctx, b, r); err != nil {
			h.log.ErrorContext(ctx, "moving nominations after the vote failed", "ballot", b.ID, "err", err.Error())
		}
	}
	return closedNow, c, b, r, nil
}

// announceResult closes the group post and posts the result's text in the
// group (its chart follows: runBallotChart).
func (h *Handlers) announceResult(ctx context.Context, c domain.Committee, b domain.Ballot, r domain.Result) error {
	if c.ChatID == 0 {
		return nil
	}
	lang := h.core.chatLang(ctx, c.ChatID)
	if b.PostChat != 0 {
		text, _ := h.ballotPost(lang, c, b, r.Turnout)
		edit := tgbotapi.NewEditMessageText(b.PostChat, b.PostMessage, text)
		edit.ParseMode = tgbotapi.ModeHTML
		edit.DisableWebPagePreview = true
		edit.ReplyMarkup = &tgbotapi.InlineKeyboardMarkup{InlineKeyboard: [][]tgbotapi.InlineKeyboardButton{}}
		if err := h.editBallotPost(ctx, b, edit); err != nil {
			return err
		}
	}
	text, kb := h.resultText(lang, c, b, r, true)
	return h.core.sendHTML(ctx, c.ChatID, text, kb, inTopic(c))
}

// result returns the stored tally, counting the ballot first if needed.
// Replicas counting at once store the same result; the first one stays.
func (h *Handlers) result(ctx context.Context, b domain.Ballot) (domain.Result, error) {
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
func (h *Handlers) resultText(lang string, c domain.Committee, b domain.Ballot, r domain.Result, withButtons bool) (string, *tgbotapi.InlineKeyboardMarkup) {
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
				"Option": h.optionLabel(lang, options[q.ID][cnt.Key]), "Votes": cnt.Votes,
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

func (h *Handlers) outcomeText(lang string, b domain.Ballot, qr domain.QuestionResult, opts map[string]domain.Option) string {
	switch qr.Outcome {
	case domain.OutcomeVoid:
		return h.cat.T(lang, "outcome_void", nil)
	case domain.OutcomeTie:
		return h.cat.T(lang, "outcome_tie", i18n.Data{"Units": strings.Join(qr.Tied, ", ")})
	case domain.OutcomePassed:
		if b.Kind == domain.KindElection {
			return h.cat.T(lang, "outcome_elected", i18n.Data{"Unit": h.optionLabel(lang, opts[qr.Winner])})
		}
		return h.cat.T(lang, "outcome_passed", nil)
	}
	if b.Kind == domain.KindElection {
		return h.cat.T(lang, "outcome_no_winner", nil)
	}
	return h.cat.T(lang, "outcome_failed", nil)
}

// closeCmd asks to confirm closing: /close <id>.
func (h *Handlers) closeCmd(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	b, ok, err := h.ballotArg(ctx, r, sc)
	if !ok || err != nil {
		return err
	}
	if b.Status != domain.BallotOpen {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "vote_closed", i18n.Data{"ID": b.ID}), nil)
	}
	voted, err := h.ballots.Voted(ctx, b.Committee, b.ID)
	if err != nil {
		return err
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_close_ballot", nil), routeBallotClose.data(b.Committee, b.ID)),
		tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_cancel", nil), routeCancel.data()),
	))
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "close_confirm", i18n.Data{"Title": b.Title, "ID": b.ID, "Voted": len(voted), "Total": len(b.Voters)}), &kb)
}

// closeButton closes after confirmation.
func (h *Handlers) closeButton(ctx context.Context, r *bot.Request) error {
	p, sc, ok, err := h.core.adminButton(ctx, r, routeBallotClose)
	if !ok {
		return err
	}
	if err := h.closeBallot(ctx, sc.committee.ID, p[0]); err != nil {
		return err
	}
	return h.core.editCallback(ctx, r, h.cat.T(r.Lang, "close_done", i18n.Data{"ID": p[0]}), nil)
}

// ballotArg loads the ballot named by the first argument, answering the
// user when there is none.
func (h *Handlers) ballotArg(ctx context.Context, r *bot.Request, sc scope) (domain.Ballot, bool, error) {
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

// applyRoleButton gives the elected unit its role for the ballot's year.
func (h *Handlers) applyRoleButton(ctx context.Context, r *bot.Request) error {
	p, sc, ok, err := h.core.adminButton(ctx, r, routeApplyRole)
	if !ok {
		return err
	}
	b, err := h.ballots.Get(ctx, sc.committee.ID, p[0])
	if err != nil {
		h.core.unknownButton(r)
		return nil
	}
	res, err := h.ballots.Result(ctx, b.Committee, b.ID)
	if err != nil || len(res.Questions) == 0 || res.Questions[0].Outcome != domain.OutcomePassed || b.Role == "" {
		h.core.unknownButton(r)
		return nil
	}
	user, _ := r.Sender()
	winner := res.Questions[0].Winner
	if _, err := h.committees.SetRole(ctx, b.Committee, b.Year, winner, b.Role, user.ID); err != nil {
		return err
	}
	text, _ := h.resultText(r.Lang, sc.committee, b, res, false)
	text += "\n\n" + h.cat.T(r.Lang, "role_set", i18n.Data{"Code": winner, "Role": h.core.roleName(r.Lang, b.Role), "Year": b.Year})
	return h.core.editCallback(ctx, r, text, nil)
}

// runoff opens the second round among the tied candidates: /runoff <id>.
func (h *Handlers) runoff(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	b, ok, err := h.ballotArg(ctx, r, sc)
	if !ok || err != nil {
		return err
	}
	if b.Round >= 2 {
		// The law allows two rounds: after the second, the head and the
		// deputy unit decide.
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "runoff_last", i18n.Data{"ID": b.ID}), nil)
	}
	if b.Status != domain.BallotClosed {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "runoff_not_closed", i18n.Data{"ID": b.ID}), nil)
	}
	res, err := h.result(ctx, b)
	if err != nil {
		return err
	}
	cands := b.RunoffCandidates(res)
	if len(cands) < 2 {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "runoff_none", i18n.Data{"ID": b.ID}), nil)
	}
	nb := domain.Ballot{
		Kind: b.Kind, Role: b.Role, Year: b.Year, Award: b.Award,
		Round: b.Round + 1, Parent: b.ID,
	}
	nb.Title = h.cat.T(h.cat.Default(), "runoff_title", i18n.Data{"Title": b.Title})
	q := b.Questions[0]
	q.Text = nb.Title
	var opts []domain.Option
	for _, o := range q.Options {
		if slices.Contains(cands, o.Key) {
			opts = append(opts, o)
		}
	}
	q.Options = opts
	nb.Questions = []domain.Question{q}
	_, optArgs := splitOptions(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.Args), b.ID)))
	o, err := h.ballotOptions(optArgs, sc.committee)
	if err != nil {
		return h.replyOptionError(ctx, r, err)
	}
	if o.secret == nil {
		o.secret = &b.Secret
	}
	if o.electorate == "" {
		o.electorate = b.Electorate
	}
	if o.quorum == nil {
		o.quorum = &b.Quorum
	}
	return h.openBallot(ctx, r, nb, o, b.Secret)
}

// remindVoters tells the delegates of units that have not voted:
// /remind_voters <id>.
func (h *Handlers) remindVoters(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	b, ok, err := h.ballotArg(ctx, r, sc)
	if !ok || err != nil {
		return err
	}
	if b.Status != domain.BallotOpen {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "vote_closed", i18n.Data{"ID": b.ID}), nil)
	}
	sent, skipped, err := h.RemindNonVoters(ctx, b.Committee, b.ID)
	if err != nil {
		return err
	}
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "remind_done", i18n.Data{"Sent": sent, "Skipped": skipped}), nil)
}

// RemindNonVoters privately reminds every delegate whose unit (or who,
// for a members ballot) has not voted; never those who have. It returns
// how many were reminded and how many could not be reached (they never
// opened a private chat with the bot, or blocked it).
func (h *Handlers) RemindNonVoters(ctx context.Context, committeeID, ballotID string) (sent, skipped int, err error) {
	c, b, ds, err := h.nonVoters(ctx, committeeID, ballotID)
	if err != nil {
		return 0, 0, err
	}
	for _, d := range ds {
		err := h.remind(ctx, c, b, d)
		switch {
		case bot.IsBlocked(err) || bot.IsChatNotFound(err):
			skipped++
		case err != nil:
			return sent, skipped, err
		default:
			sent++
		}
	}
	return sent, skipped, nil
}

// nonVoters lists the delegates still to vote in an open ballot.
func (h *Handlers) nonVoters(ctx context.Context, committeeID, ballotID string) (domain.Committee, domain.Ballot, []domain.Delegate, error) {
	b, err := h.ballots.Get(ctx, committeeID, ballotID)
	if err != nil || b.Status != domain.BallotOpen {
		return domain.Committee{}, b, nil, err
	}
	c, err := h.committees.Get(ctx, committeeID)
	if err != nil {
		return c, b, nil, err
	}
	voted, err := h.ballots.Voted(ctx, committeeID, ballotID)
	if err != nil {
		return c, b, nil, err
	}
	ds, err := h.committees.Delegates(ctx, committeeID)
	if err != nil {
		return c, b, nil, err
	}
	var out []domain.Delegate
	for _, d := range ds {
		key := d.Unit
		if b.Electorate == domain.ElectorateMembers {
			key = fmt.Sprint(d.UserID)
		}
		if slices.Contains(b.Voters, key) && !slices.Contains(voted, key) {
			out = append(out, d)
		}
	}
	return c, b, out, nil
}

// remind sends one delegate the reminder of a ballot.
func (h *Handlers) remind(ctx context.Context, c domain.Committee, b domain.Ballot, d domain.Delegate) error {
	lang := h.core.userLang(ctx, d.UserID)
	deadline := h.cat.T(lang, "remind_no_deadline", nil)
	if !b.Deadline.IsZero() {
		deadline = b.Deadline.In(c.Location()).Format("15:04 02/01/2006")
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonURL(h.cat.T(lang, "btn_vote", nil), h.ballotLink(b))))
	return h.core.sendHTML(ctx, d.UserID, h.cat.T(lang, "remind_text", i18n.Data{
		"Title": b.Title, "ID": b.ID, "Deadline": deadline, "Unit": d.Unit, "Committee": c.Name}), &kb)
}

// shareText names a share of the electorate for people: "quá nửa" for a
// majority, else the share itself ("80%", "2/3").
func (h *Handlers) shareText(lang string, t domain.Threshold) string {
	if t.IsMajority() || !t.Valid() {
		return h.cat.T(lang, "share_majority", nil)
	}
	return strings.ReplaceAll(t.String(), ".", h.cat.T(lang, "min_decimal", nil))
}

// percent formats a percentage with the language's decimal separator.
func (h *Handlers) percent(lang string, p float64) string {
	return strings.ReplaceAll(fmt.Sprintf("%.1f", p), ".", h.cat.T(lang, "min_decimal", nil))
}
