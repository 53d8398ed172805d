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
	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/storage"
)

// The personal ballot is a private message with a row of buttons per
// question; the voter picks, reviews and submits.

// vote opens the caller's personal ballot: /vote <id>. In a group it
// points to the private chat.
func (h *votingHandlers) vote(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	id := strings.TrimSpace(r.Args)
	if id == "" {
		return h.pickBallot(ctx, r, sc)
	}
	b, err := h.ballots.Get(ctx, sc.committee.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "ballot_unknown", i18n.Data{"ID": truncate(id, 20)}), nil)
	}
	if err != nil {
		return err
	}
	if chat, _ := r.Chat(); !chat.IsPrivate() {
		kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
			tgbotapi.NewInlineKeyboardButtonURL(h.cat.T(r.Lang, "btn_vote", nil), h.ballotLink(b))))
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "vote_in_private", nil), &kb)
	}
	return h.showPersonalBallot(ctx, r, sc, b, false, "")
}

// voteLink follows the Vote button: /start vote_<committee>_<ballot>.
func (h *votingHandlers) voteLink(ctx context.Context, r *bot.Request, payload string) error {
	cid, bid, ok := strings.Cut(strings.TrimPrefix(payload, "vote_"), "_")
	user, _ := r.Sender()
	c, err := h.committees.Get(ctx, cid)
	if !ok || errors.Is(err, storage.ErrNotFound) {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "ballot_unknown", i18n.Data{"ID": truncate(bid, 20)}), nil)
	}
	if err != nil {
		return err
	}
	b, err := h.ballots.Get(ctx, cid, bid)
	if errors.Is(err, storage.ErrNotFound) {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "ballot_unknown", i18n.Data{"ID": truncate(bid, 20)}), nil)
	}
	if err != nil {
		return err
	}
	sc, err := h.core.delegateScope(ctx, c, user.ID)
	if err != nil {
		return err
	}
	if err := h.current.SetCurrentCommittee(ctx, user.ID, c.ID); err != nil {
		return err
	}
	return h.showPersonalBallot(ctx, r, sc, b, false, "")
}

// voterKey is the elector the user votes as: their unit, or themselves.
func voterKey(b domain.Ballot, sc scope, userID int64) (string, bool) {
	if sc.delegate == nil {
		return "", false
	}
	if b.Electorate == domain.ElectorateMembers {
		return fmt.Sprint(userID), true
	}
	return sc.delegate.Unit, true
}

// Picks travel in the buttons' callback data, one character per question
// ("-" unanswered, else the option's index in base 36), never in Redis: a
// half-filled secret ballot stored next to the voter's id would link them
// to their choice in Redis and its AOF.
const (
	maxQuestions = 20
	maxOptions   = 36
	noPick       = '-'
	pickDigits   = "0123456789abcdefghijklmnopqrstuvwxyz"
)

// decodePicks reads a picks string against the ballot; ok is false for
// data that does not fit it (forged or stale).
func decodePicks(b domain.Ballot, state string) (domain.Choice, bool) {
	if len(state) != len(b.Questions) {
		return nil, false
	}
	c := domain.Choice{}
	for i, q := range b.Questions {
		if state[i] == noPick {
			continue
		}
		idx := strings.IndexByte(pickDigits, state[i])
		if idx < 0 || idx >= len(q.Options) {
			return nil, false
		}
		c[q.ID] = q.Options[idx].Key
	}
	return c, true
}

func emptyPicks(b domain.Ballot) string { return strings.Repeat(string(noPick), len(b.Questions)) }

// encodePicks is the picks string of choice c (the inverse of decodePicks;
// an option the ballot does not have stays unanswered).
func encodePicks(b domain.Ballot, c domain.Choice) string {
	state := emptyPicks(b)
	for i, q := range b.Questions {
		for oi, o := range q.Options {
			if c[q.ID] == o.Key && oi < len(pickDigits) {
				state = setPick(state, i, oi)
			}
		}
	}
	return state
}

func setPick(state string, q, o int) string {
	bs := []byte(state)
	bs[q] = pickDigits[o]
	return string(bs)
}

// showPersonalBallot sends (or, from a button, edits into) the voter's
// ballot, after checking they may vote.
func (h *votingHandlers) showPersonalBallot(ctx context.Context, r *bot.Request, sc scope, b domain.Ballot, edit bool, state string) error {
	user, _ := r.Sender()
	out := func(text string, kb *tgbotapi.InlineKeyboardMarkup) error {
		if edit {
			return h.core.editCallback(ctx, r, text, kb)
		}
		return h.core.reply(ctx, r, text, kb)
	}
	if b.Status != domain.BallotOpen {
		return out(h.cat.T(r.Lang, "vote_closed", i18n.Data{"ID": b.ID}), nil)
	}
	if !b.Deadline.IsZero() && !h.now().Before(b.Deadline) {
		return out(h.cat.T(r.Lang, "vote_deadline", i18n.Data{"ID": b.ID}), nil)
	}
	voter, ok := voterKey(b, sc, user.ID)
	if !ok || !slices.Contains(b.Voters, voter) {
		return out(h.cat.T(r.Lang, "vote_not_eligible", nil), nil)
	}
	voted, err := h.ballots.Voted(ctx, b.Committee, b.ID)
	if err != nil {
		return err
	}
	if b.Secret && slices.Contains(voted, voter) {
		return out(h.cat.T(r.Lang, "vote_already_unit", i18n.Data{"Voter": h.voterLabel(r.Lang, b, voter)}), nil)
	}
	if state == "" {
		state = emptyPicks(b)
		if !b.Secret {
			// An open vote may be changed until close: show the current one.
			v, err := h.ballots.OpenVoteOf(ctx, b.Committee, b.ID, voter)
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if err == nil {
				state = encodePicks(b, v.Choice)
			}
		}
	}
	text, kb := h.personalBallot(r.Lang, b, voter, state)
	return out(text, kb)
}

func (h *votingHandlers) voterLabel(lang string, b domain.Ballot, voter string) string {
	if b.Electorate == domain.ElectorateMembers {
		return h.cat.T(lang, "vote_as_yourself", nil)
	}
	return voter
}

// personalBallot renders the ballot with the voter's picks so far.
func (h *votingHandlers) personalBallot(lang string, b domain.Ballot, voter, state string) (string, *tgbotapi.InlineKeyboardMarkup) {
	picks, _ := decodePicks(b, state)
	var s strings.Builder
	s.WriteString(h.cat.T(lang, "vote_card_title", i18n.Data{"Title": b.Title, "ID": b.ID}))
	if b.Electorate == domain.ElectorateMembers {
		s.WriteString("\n" + h.cat.T(lang, "vote_card_own", nil))
	} else {
		s.WriteString("\n" + h.cat.T(lang, "vote_card_voter", i18n.Data{"Voter": voter}))
	}
	if b.Secret {
		s.WriteString("\n" + h.cat.T(lang, "vote_card_secret", nil))
	} else {
		s.WriteString("\n" + h.cat.T(lang, "vote_card_open", nil))
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	for i, q := range b.Questions {
		picked := h.cat.T(lang, "vote_not_picked", nil)
		for _, o := range q.Options {
			if picks[q.ID] == o.Key {
				picked = "<b>" + escape(h.core.optionLabel(lang, o)) + "</b>"
			}
		}
		switch {
		case len(b.Questions) > 1:
			s.WriteString(fmt.Sprintf("\n\n%d. %s\n   → %s", i+1, escape(q.Text), picked))
		case q.Text == b.Title:
			s.WriteString("\n\n" + h.cat.T(lang, "vote_your_pick", i18n.Data{"Pick": i18n.Raw(picked)}))
		default:
			s.WriteString("\n\n" + escape(q.Text) + "\n   → " + picked)
		}
		var row []tgbotapi.InlineKeyboardButton
		for oi, o := range q.Options {
			label := h.core.optionLabel(lang, o)
			if b.Kind == domain.KindElection {
				label = o.Key
			}
			if len(b.Questions) > 1 {
				label = fmt.Sprintf("%d·%s", i+1, label)
			}
			if picks[q.ID] == o.Key {
				label = "● " + label
			}
			row = append(row, tgbotapi.NewInlineKeyboardButtonData(truncate(label, 40),
				routeVotePick.data(b.Committee, b.ID, setPick(state, i, oi))))
			if len(row) == 3 {
				rows = append(rows, row)
				row = nil
			}
		}
		if len(row) > 0 {
			rows = append(rows, row)
		}
	}
	if len(picks) == len(b.Questions) && b.Valid(picks) {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(
			h.cat.T(lang, "btn_review", nil), routeVoteReview.data(b.Committee, b.ID, state))))
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return s.String(), &kb
}

// ballotPress is a press of a personal ballot's button: the ballot, the
// presser's scope and the picks the button carries.
type ballotPress struct {
	sc    scope
	b     domain.Ballot
	state string // the picks as the button's data spells them
	picks domain.Choice
	// voter is whom the presser votes as (their unit, or themselves on a
	// members ballot); eligible is false when they are no delegate.
	voter    string
	eligible bool
}

// ballotButton parses "<committee>:<ballot>:<picks>" and loads the ballot
// and the presser's scope; forged data is refused (ok false, nil error).
func (h *votingHandlers) ballotButton(ctx context.Context, r *bot.Request, rt route) (ballotPress, bool, error) {
	p, ok := h.core.buttonParts(r, rt)
	if !ok {
		return ballotPress{}, false, nil
	}
	// What counts on a personal ballot is whether the presser is a
	// delegate: no admin check (it may ask Telegram), and the committee,
	// the delegation and the ballot in one round trip — a vote waits for
	// Redis only.
	user, _ := r.Sender()
	var b domain.Ballot
	sc, ok, err := h.core.buttonScopeWith(r, false, func() (scope, error) {
		v, err := h.ballots.GetForVoter(ctx, p[0], p[1], user.ID)
		b = v.Ballot
		return scope{committee: v.Committee, delegate: v.Delegate, admin: h.admins[user.ID]}, err
	})
	if !ok || err != nil {
		return ballotPress{}, false, err
	}
	picks, ok := decodePicks(b, p[2])
	if !ok {
		h.core.unknownButton(r)
		return ballotPress{}, false, nil
	}
	voter, eligible := voterKey(b, sc, user.ID)
	return ballotPress{sc: sc, b: b, state: p[2], picks: picks, voter: voter, eligible: eligible}, true, nil
}

// redraw shows the personal ballot again with the press's picks.
func (h *votingHandlers) redraw(ctx context.Context, r *bot.Request, bp ballotPress) error {
	return h.showPersonalBallot(ctx, r, bp.sc, bp.b, true, bp.state)
}

// votePick redraws the ballot with the pick the button carries.
func (h *votingHandlers) votePick(ctx context.Context, r *bot.Request) error {
	bp, ok, err := h.ballotButton(ctx, r, routeVotePick)
	if !ok {
		return err
	}
	return h.redraw(ctx, r, bp)
}

// voteReview shows the picks before submitting.
func (h *votingHandlers) voteReview(ctx context.Context, r *bot.Request) error {
	bp, ok, err := h.ballotButton(ctx, r, routeVoteReview)
	if !ok {
		return err
	}
	b := bp.b
	if !b.Valid(bp.picks) || !bp.eligible {
		return h.redraw(ctx, r, bp)
	}
	var s strings.Builder
	s.WriteString(h.cat.T(r.Lang, "vote_review_title", i18n.Data{"Title": b.Title, "Voter": h.voterLabel(r.Lang, b, bp.voter)}))
	for i, q := range b.Questions {
		for _, o := range q.Options {
			if bp.picks[q.ID] == o.Key {
				s.WriteString(fmt.Sprintf("\n%d. %s → <b>%s</b>", i+1, escape(q.Text), escape(h.core.optionLabel(r.Lang, o))))
			}
		}
	}
	if b.Secret {
		s.WriteString("\n\n" + h.cat.T(r.Lang, "vote_review_final", nil))
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_submit", nil), routeVoteSubmit.data(b.Committee, b.ID, bp.state)),
		tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_change", nil), routeVotePick.data(b.Committee, b.ID, bp.state)),
	))
	return h.core.editCallback(ctx, r, s.String(), &kb)
}

// voteSubmit casts the vote: one atomic, idempotent step in Redis. It is
// the fast path of a burst, so it reads nothing before the cast but the
// ballot's document, which the store keeps once decoded: the cast script
// checks the ballot, the delegation and the elector itself and finds the
// unit of a units ballot. The button is answered at once with the
// receipt; the card's edit goes through the outbox.
func (h *votingHandlers) voteSubmit(ctx context.Context, r *bot.Request) error {
	p, ok := h.core.buttonParts(r, routeVoteSubmit)
	if !ok {
		return nil
	}
	if chat, _ := r.Chat(); chat.IsGroup() {
		// Personal ballots live in private chats; a group's button
		// goes the long way, with its group checks.
		return h.voteSubmitChecked(ctx, r)
	}
	b, err := h.ballots.ForVoting(ctx, p[0], p[1])
	if errors.Is(err, storage.ErrNotFound) {
		h.core.unknownButton(r)
		return nil
	}
	if err != nil {
		return err
	}
	picks, ok := decodePicks(b, p[2])
	if !ok {
		h.core.unknownButton(r)
		return nil
	}
	if !b.Valid(picks) {
		// Not every question answered (forged data): show the ballot.
		return h.voteSubmitChecked(ctx, r)
	}
	user, _ := r.Sender()
	voter := "" // a units ballot: the unit the cast finds
	if b.Electorate != domain.ElectorateUnits {
		voter = fmt.Sprint(user.ID)
	}
	return h.cast(ctx, r, b, voter, picks, nil)
}

// voteSubmitChecked is voteSubmit after the checks of every ballot button
// (the committee, the presser's delegation, a group's own committee).
func (h *votingHandlers) voteSubmitChecked(ctx context.Context, r *bot.Request) error {
	bp, ok, err := h.ballotButton(ctx, r, routeVoteSubmit)
	if !ok {
		return err
	}
	if !bp.eligible {
		return domain.ErrNotEligible
	}
	if !bp.b.Valid(bp.picks) {
		return h.redraw(ctx, r, bp)
	}
	return h.cast(ctx, r, bp.b, bp.voter, bp.picks, &bp.sc.committee)
}

// cast records picks for voter ("" on a units ballot: the presser's unit)
// and answers the presser. c is the committee when the caller has it.
func (h *votingHandlers) cast(ctx context.Context, r *bot.Request, b domain.Ballot, voter string, picks domain.Choice, c *domain.Committee) error {
	user, _ := r.Sender()
	// The cast id and the receipt come from the update itself (the
	// callback query's id): handling it again (a crash, a redelivery)
	// counts the vote once and shows the same receipt.
	cq, _ := r.Callback()
	// The post's edit slot is taken in the same step (the script takes it
	// only when the ballot has a post).
	sub := storage.Submission{UserID: user.ID, Voter: voter, Name: user.DisplayName(), Choice: picks, Token: cq.ID, PostEvery: postEvery}
	var receipt string
	var res storage.CastResult
	var err error
	if b.Secret {
		receipt, res, err = h.ballots.CastSecret(ctx, b, sub)
	} else {
		res, err = h.ballots.CastOpen(ctx, b, sub)
	}
	if res.Voter != "" {
		voter = res.Voter
	}
	if err != nil {
		// The cast's refusals (closed, past the deadline, not an elector,
		// voted already) are the error table's: it edits the button's
		// message into the refusal.
		return withData(err, i18n.Data{"ID": b.ID, "Voter": h.voterLabel(r.Lang, b, voter)})
	}
	// The button's answer goes out at once (it is not a chat message and
	// does not wait behind Telegram's message limits): the voter sees the
	// vote counted, with the receipt, before the ballot's edit arrives.
	var text string
	switch {
	case b.Secret:
		text = h.cat.T(r.Lang, "vote_recorded_secret", i18n.Data{"Voter": h.voterLabel(r.Lang, b, voter), "Receipt": receipt, "ID": b.ID})
		r.Answer(h.cat.T(r.Lang, "vote_answer_secret", i18n.Data{"Receipt": receipt}), false)
	case res.Changed:
		text = h.cat.T(r.Lang, "vote_changed", i18n.Data{"ID": b.ID})
		r.Answer(h.cat.T(r.Lang, "vote_answer_changed", nil), false)
	default:
		text = h.cat.T(r.Lang, "vote_recorded_open", i18n.Data{"Voter": h.voterLabel(r.Lang, b, voter), "ID": b.ID})
		r.Answer(h.cat.T(r.Lang, "vote_answer_open", nil), false)
	}
	var opts []outbox.SendOption
	if !res.Again {
		// The vote was recorded by this run: no earlier run of this
		// update got this far, so its edit was never queued.
		opts = append(opts, outbox.Fresh())
	}
	if err := h.core.editCallback(ctx, r, text, nil, opts...); err != nil {
		// The vote is recorded and the button's answer carries the
		// receipt: a failure to queue the ballot's edit must not make the
		// error middleware tell the voter it was not recorded.
		h.log.WarnContext(ctx, "queueing the ballot's edit after a recorded vote failed", "ballot", b.ID, "err", err.Error())
	}
	// res.Again: the same press handled before (a redelivery after a
	// crash, or another replica at the same time: this route takes no
	// claim). The voter gets their answer and receipt again; the unit's
	// notice and the post's refresh belong to the run that recorded the
	// vote, and closing a full ballot is safe to repeat.
	if b.Electorate == domain.ElectorateUnits && !res.Changed && !res.Again {
		h.tellUnit(ctx, b.Committee, b, voter, user)
	}
	if res.Voted >= res.Electorate && res.Electorate > 0 {
		return h.results.closeBallot(ctx, b.Committee, b.ID)
	}
	if res.Again {
		return nil
	}
	// The vote is recorded: a post that cannot be refreshed now is not the
	// voter's problem.
	if err := h.afterVote(ctx, c, b, res); err != nil {
		h.log.WarnContext(ctx, "refreshing the ballot post failed", "ballot", b.ID, "err", err.Error())
	}
	return nil
}

// tellUnit tells the unit's other delegates that their unit has voted.
func (h *votingHandlers) tellUnit(ctx context.Context, committeeID string, b domain.Ballot, unit string, by bot.User) {
	ds, err := h.committees.UnitDelegates(ctx, committeeID, unit)
	if err != nil {
		return
	}
	for _, d := range ds {
		if d.UserID == by.ID {
			continue
		}
		lang := h.core.userLang(ctx, d.UserID)
		text := h.cat.T(lang, "vote_unit_voted", i18n.Data{"Unit": unit, "Name": by.DisplayName(), "Title": b.Title})
		if err := h.core.sendHTML(ctx, d.UserID, text, nil); err != nil && !bot.IsBlocked(err) && !bot.IsChatNotFound(err) {
			h.log.WarnContext(ctx, "telling a unit it voted failed", "err", err.Error())
		}
	}
}
