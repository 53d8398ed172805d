package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/scheduler"
	"github.com/committeebot/committeebot/storage"
)

// invite makes a one-time invite link for a unit. The link goes to the
// admin privately: posted in a group, anyone could use it.
func (h *committeeHandlers) invite(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	code := domain.NormalizeUnitCode(r.Args)
	if code == "" {
		return h.unitButtons(ctx, r, sc.committee, "invite_choose", routeInvite)
	}
	return h.makeInvite(ctx, r, sc.committee, code)
}

func (h *committeeHandlers) makeInvite(ctx context.Context, r *bot.Request, c domain.Committee, code string) error {
	user, _ := r.Sender()
	chat, _ := r.Chat()
	u, err := h.committees.Unit(ctx, c.ID, code)
	if errors.Is(err, storage.ErrNotFound) {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "unit_unknown", i18n.Data{"Code": truncate(code, 40)}), nil)
	}
	if err != nil {
		return err
	}
	inv, err := h.committees.CreateInvite(ctx, c.ID, u.Code, user.ID)
	if err != nil {
		return err
	}
	lang := h.core.userLang(ctx, user.ID)
	link := h.core.deepLink(inv.Token)
	text := h.cat.T(lang, "invite_link", i18n.Data{
		"Code": u.Code, "Name": u.Name, "Committee": c.Name,
		"Link": link, "Expires": inv.Expires.In(c.Location()).Format("15:04 02/01/2006"),
	})
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonURL(h.cat.T(lang, "btn_share", nil), "https://t.me/share/url?url="+link),
	))
	if chat.IsPrivate() {
		return h.core.reply(ctx, r, text, &kb)
	}
	err = h.core.sendHTML(ctx, user.ID, text, &kb)
	switch {
	case bot.IsBlocked(err) || bot.IsChatNotFound(err):
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "invite_start_private", i18n.Data{"Bot": h.botUsername, "Link": h.core.deepLink("")}), nil)
	case err != nil:
		return err
	}
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "invite_sent_private", i18n.Data{"Code": u.Code}), nil)
}

// inviteButton: a unit was chosen for an invite.
func (h *committeeHandlers) inviteButton(ctx context.Context, r *bot.Request, sc scope, p []string) error {
	return h.makeInvite(ctx, r, sc.committee, p[0])
}

// redeem follows an invite link: /start <token> in a private chat. A
// delegate of another unit is asked to confirm the move first.
func (h *committeeHandlers) redeem(ctx context.Context, r *bot.Request, token string) error {
	chat, _ := r.Chat()
	if !chat.IsPrivate() {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "invite_open_private", nil), nil)
	}
	text, kb, err := h.redeemAs(ctx, r, token, false)
	if err != nil {
		return err
	}
	return h.core.reply(ctx, r, text, kb)
}

// inviteMoveButton confirms moving to the invite's unit: invmv:<token>.
func (h *committeeHandlers) inviteMoveButton(ctx context.Context, r *bot.Request) error {
	p, ok := h.core.buttonParts(r, routeInviteMove)
	if !ok {
		return nil
	}
	text, kb, err := h.redeemAs(ctx, r, p[0], true)
	if err != nil {
		return err
	}
	return h.core.editCallback(ctx, r, text, kb)
}

// redeemAs redeems token for the request's sender and returns the answer
// for them; the group hears of a new delegate or a move (not of a
// repeated /start). A used or expired invite is its error, which the error
// table answers (errors.go).
func (h *committeeHandlers) redeemAs(ctx context.Context, r *bot.Request, token string, confirmMove bool) (string, *tgbotapi.InlineKeyboardMarkup, error) {
	user, _ := r.Sender()
	red, err := h.committees.Redeem(ctx, token, domain.Delegate{
		UserID: user.ID, Name: user.DisplayName(), Username: user.Username,
	}, confirmMove)
	var move *domain.MoveError
	switch {
	case errors.As(err, &move):
		kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
			tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_invite_move", i18n.Data{"To": move.To}), routeInviteMove.data(token)),
			tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_cancel", nil), routeCancel.data()),
		))
		return h.cat.T(r.Lang, "invite_move_confirm", i18n.Data{"From": move.From, "To": move.To}), &kb, nil
	case errors.Is(err, storage.ErrNotFound):
		return h.cat.T(r.Lang, "start_bad_token", nil), nil, nil
	case err != nil:
		return "", nil, err
	}
	c, d := red.Committee, red.Delegate
	if err := h.current.SetCurrentCommittee(ctx, user.ID, c.ID); err != nil {
		return "", nil, err
	}
	u, err := h.committees.Unit(ctx, c.ID, d.Unit)
	if err != nil {
		return "", nil, err
	}
	if red.Again {
		// A repeated /start is quiet; but if this is the same /start
		// handled again after a stop, its join's notice may not have been
		// scheduled yet: scheduling it again is the same job.
		if c.ChatID != 0 {
			if err := h.scheduleJoinNotice(ctx, c, token, user.ID, red.Delegate.Joined, false); err != nil {
				return "", nil, err
			}
		}
		return h.cat.T(r.Lang, "invite_already", i18n.Data{"Code": u.Code, "Unit": u.Name, "Committee": c.Name}), nil, nil
	}
	if c.ChatID != 0 {
		if err := h.scheduleJoinNotice(ctx, c, token, user.ID, red.Delegate.Joined, true); err != nil {
			return "", nil, err
		}
	}
	text := h.cat.T(r.Lang, "invite_welcome", i18n.Data{"Name": user.DisplayName(), "Code": u.Code, "Unit": u.Name, "Committee": c.Name})
	if red.Previous != "" {
		text = h.cat.T(r.Lang, "invite_moved", i18n.Data{"From": red.Previous, "Code": u.Code, "Unit": u.Name, "Committee": c.Name})
	}
	return text, nil, nil
}

// joinPayload names the digest a job announces: the joins of the member
// log in [From, Due) (unix seconds) for a digest period, or, with none
// (bot.join_digest 0), User's join (or move) by an invite at At (unix
// ms).
type joinPayload struct {
	Committee string `json:"c"`
	From      int64  `json:"from,omitempty"`
	Due       int64  `json:"due,omitempty"`
	User      int64  `json:"user,omitempty"`
	At        int64  `json:"at,omitempty"`
}

// told is what of the member log hist the job announces: the changes of
// its period, or the one join it is about — the user's last join or move
// logged at At (the invite writes the delegate's Joined and the log's
// entry with one time; a second apart at most before it did).
func (p joinPayload) told(hist []domain.MemberChange) []domain.MemberChange {
	if p.User == 0 {
		from, due := time.Unix(p.From, 0), time.Unix(p.Due, 0)
		var out []domain.MemberChange
		for _, ch := range hist {
			if !ch.At.Before(from) && ch.At.Before(due) {
				out = append(out, ch)
			}
		}
		return out
	}
	for i := len(hist) - 1; i >= 0; i-- {
		ch := hist[i]
		d := ch.At.UnixMilli() - p.At
		if ch.UserID == p.User && (ch.Event == domain.MemberJoined || ch.Event == domain.MemberMoved) && d > -1000 && d < 1000 {
			return []domain.MemberChange{ch}
		}
	}
	return nil
}

// joinRetold is how long after a join a repeated /start still schedules
// its notice (bot.join_digest 0): the same /start handled again after a
// stop comes back within Telegram's 24 hours of redelivery, and the
// scheduler keeps a finished job for 7 days, so scheduling it again is
// the same job; a /start repeated later is quiet.
const joinRetold = 24 * time.Hour

// JobJoinDigest announces in the group the delegates who joined in one
// period (Deps.JoinDigest), or one join when there is no period.
const JobJoinDigest = "join_digest"

// scheduleJoinNotice tells the committee's group of a delegate who
// joined (or moved to a unit by an invite) at joined, by a job that reads
// the member log the invite itself wrote — so that no join is lost nor
// told twice, whatever is retried or stops half-way. With a digest period
// (bot.join_digest) the job is the period's: one message per committee
// and period, naming everyone who joined in it. With none, it is the
// join's own (one per invite token), due at once (the runner is woken).
// Either way scheduling it again is the same job. Unless first (a
// repeated /start), a period already over is left alone (its job ran, or
// ran with nothing to tell), and so is a join's own notice after
// joinRetold.
func (h *committeeHandlers) scheduleJoinNotice(ctx context.Context, c domain.Committee, token string, user int64, joined time.Time, first bool) error {
	if joined.IsZero() {
		return nil
	}
	if h.joinDigest <= 0 {
		if !first && h.now().Sub(joined) > joinRetold {
			return nil
		}
		at := joined.UnixMilli()
		payload, err := json.Marshal(joinPayload{Committee: c.ID, User: user, At: at})
		if err != nil {
			return err
		}
		return h.jobs.Schedule(ctx, storage.Job{
			ID: "join." + c.ID + "." + token, Kind: JobJoinDigest, Payload: payload, DueAt: joined,
		})
	}
	from := joined.Truncate(h.joinDigest)
	due := from.Add(h.joinDigest)
	if !first && !due.After(h.now()) {
		return nil
	}
	payload, err := json.Marshal(joinPayload{Committee: c.ID, From: from.Unix(), Due: due.Unix()})
	if err != nil {
		return err
	}
	return h.jobs.Schedule(ctx, storage.Job{
		ID: fmt.Sprintf("joins.%s.%d", c.ID, due.Unix()), Kind: JobJoinDigest, Payload: payload, DueAt: due,
	})
}

// runJoinDigest posts one message naming everyone who joined in the
// period: "👋 Joined as delegates: An (TANDTC), Bình (KTNN)".
func (h *committeeHandlers) runJoinDigest(ctx context.Context, job *scheduler.Job) error {
	var p joinPayload
	if err := json.Unmarshal(job.Payload(), &p); err != nil {
		return fmt.Errorf("join digest %s: %w", job.ID(), err)
	}
	c, err := h.committees.Get(ctx, p.Committee)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && c.ChatID == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	hist, err := h.committees.MemberHistory(ctx, c.ID)
	if err != nil {
		return err
	}
	var joins, moves []domain.MemberChange
	for _, ch := range p.told(hist) {
		switch ch.Event {
		case domain.MemberJoined:
			joins = append(joins, ch)
		case domain.MemberMoved:
			moves = append(moves, ch)
		}
	}
	lang := h.core.chatLang(ctx, c.ChatID)
	var lines []string
	switch {
	case len(joins) == 1:
		lines = append(lines, h.cat.T(lang, "delegate_joined", i18n.Data{"Name": joins[0].Name, "Code": joins[0].To}))
	case len(joins) > 1:
		names := make([]string, 0, len(joins))
		for _, j := range joins {
			names = append(names, h.cat.T(lang, "delegates_joined_item", i18n.Data{"Name": j.Name, "Code": j.To}))
		}
		lines = append(lines, h.cat.N(lang, "delegates_joined", len(names), i18n.Data{"List": i18n.Raw(strings.Join(names, ", "))}))
	}
	for _, m := range moves {
		lines = append(lines, h.cat.T(lang, "delegate_moved", i18n.Data{"Name": m.Name, "From": m.From, "To": m.To}))
	}
	if len(lines) == 0 {
		return nil
	}
	return h.core.postOnce(ctx, job, c, strings.Join(lines, "\n"))
}

// members lists delegates by unit, and the units that have none yet.
func (h *committeeHandlers) members(ctx context.Context, r *bot.Request) error {
	c := scopeOf(r).committee
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return err
	}
	delegates, err := h.committees.Delegates(ctx, c.ID)
	if err != nil {
		return err
	}
	byUnit := map[string][]domain.Delegate{}
	for _, d := range delegates {
		byUnit[d.Unit] = append(byUnit[d.Unit], d)
	}
	var b strings.Builder
	b.WriteString(h.cat.N(r.Lang, "members_title", len(delegates), i18n.Data{"Name": c.Name}))
	var missing []string
	for _, u := range units {
		ds := byUnit[u.Code]
		if len(ds) == 0 {
			missing = append(missing, u.Code)
			continue
		}
		b.WriteString("\n\n<b>" + escape(u.Code) + "</b>" + h.roleBadge(r.Lang, c, u.Code))
		for _, d := range ds {
			b.WriteString("\n")
			b.WriteString(h.cat.T(r.Lang, "members_line", i18n.Data{"Name": d.Name, "Username": d.Username, "Since": h.core.date(d.Joined, c)}))
		}
	}
	if len(missing) > 0 {
		b.WriteString("\n\n")
		b.WriteString(h.cat.T(r.Lang, "members_missing", i18n.Data{"Units": strings.Join(missing, ", ")}))
	}
	return h.core.reply(ctx, r, b.String(), nil)
}

// leave removes the caller as a delegate.
func (h *committeeHandlers) leave(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	user, _ := r.Sender()
	d, err := h.committees.RemoveDelegate(ctx, sc.committee.ID, user.ID, user.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "delegate_only", nil), nil)
	}
	if err != nil {
		return err
	}
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "left_unit", i18n.Data{"Code": d.Unit, "Committee": sc.committee.Name}), nil)
}

// delegateRemove removes a delegate: by @username or user id, or chosen
// from buttons.
func (h *committeeHandlers) delegateRemove(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	delegates, err := h.committees.Delegates(ctx, sc.committee.ID)
	if err != nil {
		return err
	}
	arg := strings.TrimSpace(r.Args)
	if arg == "" {
		if len(delegates) == 0 {
			return h.core.reply(ctx, r, h.cat.T(r.Lang, "members_none", nil), nil)
		}
		var rows [][]tgbotapi.InlineKeyboardButton
		for _, d := range delegates {
			label := truncate(fmt.Sprintf("%s · %s", d.Unit, d.Name), 60)
			rows = append(rows, tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(label, routeDelegateOut.data(sc.committee.ID, strconv.FormatInt(d.UserID, 10)))))
		}
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_cancel", nil), routeCancel.data())))
		kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "delegate_remove_choose", nil), &kb)
	}
	for _, d := range delegates {
		if strings.EqualFold(strings.TrimPrefix(arg, "@"), d.Username) || arg == strconv.FormatInt(d.UserID, 10) {
			return h.removeDelegate(ctx, r, sc.committee, d.UserID, false)
		}
	}
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "delegate_unknown", i18n.Data{"Who": truncate(arg, 40)}), nil)
}

func (h *committeeHandlers) removeDelegate(ctx context.Context, r *bot.Request, c domain.Committee, userID int64, edit bool) error {
	admin, _ := r.Sender()
	d, err := h.committees.RemoveDelegate(ctx, c.ID, userID, admin.ID)
	var text string
	switch {
	case errors.Is(err, storage.ErrNotFound):
		text = h.cat.T(r.Lang, "delegate_unknown", i18n.Data{"Who": strconv.FormatInt(userID, 10)})
	case err != nil:
		return err
	default:
		text = h.cat.T(r.Lang, "delegate_removed", i18n.Data{"Name": d.Name, "Code": d.Unit})
		lang := h.core.userLang(ctx, d.UserID)
		nerr := h.core.sendHTML(ctx, d.UserID, h.cat.T(lang, "delegate_removed_you", i18n.Data{"Code": d.Unit, "Committee": c.Name}), nil)
		if nerr != nil && !bot.IsBlocked(nerr) && !bot.IsChatNotFound(nerr) {
			h.log.WarnContext(ctx, "telling a removed delegate failed", "err", nerr.Error())
		}
	}
	if edit {
		return h.core.editCallback(ctx, r, text, nil)
	}
	return h.core.reply(ctx, r, text, nil)
}

// delegateRemoveButton removes the delegate chosen from the buttons.
func (h *committeeHandlers) delegateRemoveButton(ctx context.Context, r *bot.Request, sc scope, p []string) error {
	id, err := strconv.ParseInt(p[0], 10, 64)
	if err != nil {
		h.core.unknownButton(r)
		return nil
	}
	return h.removeDelegate(ctx, r, sc.committee, id, true)
}
