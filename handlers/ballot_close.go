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
func (h *resultHandlers) CloseBallot(ctx context.Context, committeeID, ballotID string) error {
	return h.closeBallot(ctx, committeeID, ballotID)
}

func (h *resultHandlers) closeBallot(ctx context.Context, committeeID, ballotID string) error {
	if h.jobs != nil {
		// The announcement's job first, then the close: a stop between
		// the two leaves a job that closes the ballot and announces it.
		if err := h.scheduleResult(ctx, committeeID, ballotID); err != nil {
			return err
		}
	}
	closedNow, c, b, post, r, err := h.closeAndCount(ctx, committeeID, ballotID)
	if err != nil || b.ID == "" || h.jobs != nil || !closedNow {
		return err
	}
	// Without a scheduler (handlers tested alone): at once.
	if err := h.announceResult(ctx, c, b, post, r); err != nil || c.ChatID == 0 {
		return err
	}
	return h.sendResultChart(ctx, c.ChatID, h.core.chatLang(ctx, c.ChatID), c, b, r, inTopic(c))
}

// closeAndCount closes the ballot (reporting whether this call did),
// counts it, and applies what the result decides that is safe to apply
// again (moving voted nominations, idempotent by their expected status).
// It returns the ballot's group post too, read with the ballot.
func (h *resultHandlers) closeAndCount(ctx context.Context, committeeID, ballotID string) (bool, domain.Committee, domain.Ballot, storage.Post, domain.Result, error) {
	var c domain.Committee
	closedNow, err := h.ballots.Close(ctx, committeeID, ballotID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, c, domain.Ballot{}, storage.Post{}, domain.Result{}, nil
	}
	if err != nil {
		return false, c, domain.Ballot{}, storage.Post{}, domain.Result{}, err
	}
	b, post, err := h.ballots.GetWithPost(ctx, committeeID, ballotID)
	if err != nil {
		return false, c, b, post, domain.Result{}, err
	}
	r, err := h.result(ctx, b)
	if err != nil {
		return false, c, b, post, r, err
	}
	if c, err = h.committees.Get(ctx, committeeID); err != nil {
		return false, c, b, post, r, err
	}
	if b.Kind == domain.KindNominations {
		if err := h.nominationRoom.nominationsResult(ctx, b, r); err != nil {
			h.log.ErrorContext(ctx, "moving nominations after the vote failed", "ballot", b.ID, "err", err.Error())
		}
	}
	return closedNow, c, b, post, r, nil
}

// announceResult closes post, the ballot's group post, and posts the
// result's text in the group (its chart follows: runBallotChart).
func (h *resultHandlers) announceResult(ctx context.Context, c domain.Committee, b domain.Ballot, post storage.Post, r domain.Result) error {
	if c.ChatID == 0 {
		return nil
	}
	lang := h.core.chatLang(ctx, c.ChatID)
	if post.Posted() {
		text, _ := h.voting.ballotPost(lang, c, b, r.Turnout)
		edit := tgbotapi.NewEditMessageText(post.Chat, post.Message, text)
		edit.ParseMode = tgbotapi.ModeHTML
		edit.DisableWebPagePreview = true
		edit.ReplyMarkup = &tgbotapi.InlineKeyboardMarkup{InlineKeyboard: [][]tgbotapi.InlineKeyboardButton{}}
		if err := h.voting.editBallotPost(ctx, b, post, edit); err != nil {
			return err
		}
	}
	text, kb := h.resultText(lang, c, b, r, true)
	return h.core.sendHTML(ctx, c.ChatID, text, kb, inTopic(c))
}

// closeCmd asks to confirm closing: /close <id>.
func (h *resultHandlers) closeCmd(ctx context.Context, r *bot.Request) error {
	b, ok, err := h.openBallotArg(ctx, r)
	if !ok || err != nil {
		return err
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

// openBallotArg is ballotArg for a command that acts on an open ballot:
// it answers a closed one with "vote_closed" (ok false).
func (h *resultHandlers) openBallotArg(ctx context.Context, r *bot.Request) (domain.Ballot, bool, error) {
	b, ok, err := h.voting.ballotArg(ctx, r, scopeOf(r))
	if !ok || err != nil {
		return b, false, err
	}
	if b.Status != domain.BallotOpen {
		return b, false, h.core.reply(ctx, r, h.cat.T(r.Lang, "vote_closed", i18n.Data{"ID": b.ID}), nil)
	}
	return b, true, nil
}

// closeButton closes after confirmation.
func (h *resultHandlers) closeButton(ctx context.Context, r *bot.Request, sc scope, p []string) error {
	if err := h.closeBallot(ctx, sc.committee.ID, p[0]); err != nil {
		return err
	}
	return h.core.editCallback(ctx, r, h.cat.T(r.Lang, "close_done", i18n.Data{"ID": p[0]}), nil)
}

// applyRoleButton gives the elected unit its role for the ballot's year.
func (h *resultHandlers) applyRoleButton(ctx context.Context, r *bot.Request, sc scope, p []string) error {
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
func (h *resultHandlers) runoff(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	b, ok, err := h.voting.ballotArg(ctx, r, sc)
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
	o, err := h.voting.ballotOptions(optArgs, sc.committee)
	if err != nil {
		return h.voting.replyOptionError(ctx, r, err)
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
	return h.voting.openBallot(ctx, r, nb, o, b.Secret)
}

// remindVoters tells the delegates of units that have not voted:
// /remind_voters <id>.
func (h *resultHandlers) remindVoters(ctx context.Context, r *bot.Request) error {
	b, ok, err := h.openBallotArg(ctx, r)
	if !ok || err != nil {
		return err
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
func (h *resultHandlers) RemindNonVoters(ctx context.Context, committeeID, ballotID string) (sent, skipped int, err error) {
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
func (h *resultHandlers) nonVoters(ctx context.Context, committeeID, ballotID string) (domain.Committee, domain.Ballot, []domain.Delegate, error) {
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
func (h *resultHandlers) remind(ctx context.Context, c domain.Committee, b domain.Ballot, d domain.Delegate) error {
	lang := h.core.userLang(ctx, d.UserID)
	deadline := h.cat.T(lang, "remind_no_deadline", nil)
	if !b.Deadline.IsZero() {
		deadline = b.Deadline.In(c.Location()).Format("15:04 02/01/2006")
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonURL(h.cat.T(lang, "btn_vote", nil), h.voting.ballotLink(b))))
	return h.core.sendHTML(ctx, d.UserID, h.cat.T(lang, "remind_text", i18n.Data{
		"Title": b.Title, "ID": b.ID, "Deadline": deadline, "Unit": d.Unit, "Committee": c.Name}), &kb)
}

// Register adds the buttons of a ballot's close and of its result.
func (h *resultHandlers) Register(rt *bot.Router) {
	register(rt,
		h.core.adminOnly(routeBallotClose, h.closeButton),
		h.core.adminOnly(routeApplyRole, h.applyRoleButton),
	)
}
