package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/scheduler"
	"github.com/committeebot/committeebot/storage"
)

// CommitteeStore keeps committees, their units, delegates, invites, roles
// and covenants. Lookups return storage.ErrNotFound for what does not
// exist; see storage.Committees for the other errors.
type CommitteeStore interface {
	Create(ctx context.Context, chatID int64, title, name, timezone, language string, year int, by int64) (domain.Committee, error)
	Get(ctx context.Context, id string) (domain.Committee, error)
	ByChat(ctx context.Context, chatID int64) (domain.Committee, error)
	Migrate(ctx context.Context, fromChat, toChat int64) error
	Detach(ctx context.Context, chatID int64) (domain.Committee, error)
	FormerCommittee(ctx context.Context, chatID int64) (string, error)
	Reattach(ctx context.Context, id string, chatID int64) error

	AddUnit(ctx context.Context, id string, u domain.Unit) error
	RemoveUnit(ctx context.Context, id, code string, by int64) ([]domain.Delegate, error)
	Units(ctx context.Context, id string) ([]domain.Unit, error)
	Unit(ctx context.Context, id, code string) (domain.Unit, error)

	Delegates(ctx context.Context, id string) ([]domain.Delegate, error)
	UnitDelegates(ctx context.Context, id, code string) ([]domain.Delegate, error)
	DelegateOf(ctx context.Context, id string, userID int64) (domain.Delegate, error)
	RemoveDelegate(ctx context.Context, id string, userID, by int64) (domain.Delegate, error)
	UserCommittees(ctx context.Context, userID int64) ([]string, error)

	CreateInvite(ctx context.Context, id, unit string, by int64) (domain.Invite, error)
	// TurnYear moves the year forward only (false: already there);
	// IDs lists every committee.
	TurnYear(ctx context.Context, id string, year int) (bool, error)
	IDs(ctx context.Context) ([]string, error)
	// Redeem follows an invite; moving a delegate of another unit needs
	// confirmMove (else *storage.MoveError).
	Redeem(ctx context.Context, token string, d domain.Delegate, confirmMove bool) (storage.Redemption, error)
	RevokeInvites(ctx context.Context, id, unit string) (int, error)

	SetRole(ctx context.Context, id string, year int, code, role string, by int64) ([]domain.RoleChange, error)
	RoleHistory(ctx context.Context, id string) ([]domain.RoleChange, error)
	// MemberHistory is every join, move, leave and removal of delegates.
	MemberHistory(ctx context.Context, id string) ([]domain.MemberChange, error)
	SetYear(ctx context.Context, id string, year int) error
	// SetThread names the forum topic of the group where the bloc posts.
	SetThread(ctx context.Context, id string, thread int) error

	OpenCovenant(ctx context.Context, id string, year int, title string, by int64) (domain.Covenant, error)
	Covenant(ctx context.Context, id string) (domain.Covenant, error)
	Sign(ctx context.Context, id string, year int, sig domain.Signature) (domain.Covenant, bool, bool, error)
}

// CurrentCommittees remembers which committee a user last acted in, so a
// private-chat command knows which committee it is about. Get returns
// storage.ErrNotFound when none was recorded.
type CurrentCommittees interface {
	CurrentCommittee(ctx context.Context, userID int64) (string, error)
	SetCurrentCommittee(ctx context.Context, userID int64, committeeID string) error
}

var (
	_ CommitteeStore    = (*storage.Committees)(nil)
	_ CurrentCommittees = (*storage.Users)(nil)
)

// scope is what the caller must be for a command to run.
type scope struct {
	committee domain.Committee
	admin     bool
	delegate  *domain.Delegate
}

type scopeKey struct{}

// scopeOf returns the committee scope resolved by inCommittee.
func scopeOf(r *bot.Request) scope {
	v, _ := r.Value(scopeKey{})
	s, _ := v.(scope)
	return s
}

// inCommittee resolves the committee a command is about — the group's in a
// group, the user's current one in a private chat — and who the caller is
// there, then enforces the command's requirements with a clear refusal.
func (h *Handlers) inCommittee(c command) bot.Middleware {
	return func(next bot.Handler) bot.Handler {
		return func(ctx context.Context, r *bot.Request) error {
			user, ok := r.Sender()
			if !ok {
				return nil
			}
			com, found, err := h.committeeFor(ctx, r, true)
			if err != nil || !found {
				return err
			}
			sc, err := h.scopeFor(ctx, com, user.ID)
			if err != nil {
				return err
			}
			switch {
			case c.admin && !sc.admin:
				return h.reply(ctx, r, h.cat.T(r.Lang, "admin_only", i18n.Data{"Group": h.groupName(com)}), nil)
			case c.delegate && sc.delegate == nil, c.member && !sc.admin && sc.delegate == nil:
				return h.reply(ctx, r, h.cat.T(r.Lang, "delegate_only", nil), nil)
			}
			r.Set(scopeKey{}, sc)
			return next(ctx, r)
		}
	}
}

// groupName names the committee's group for refusals.
func (h *Handlers) groupName(c domain.Committee) string {
	if c.Title != "" {
		return c.Title
	}
	return c.Name
}

// scopeFor works out whether userID administers or represents a unit in
// committee c.
func (h *Handlers) scopeFor(ctx context.Context, c domain.Committee, userID int64) (scope, error) {
	admin, err := h.isCommitteeAdmin(ctx, c, userID)
	if err != nil {
		return scope{committee: c}, err
	}
	sc, err := h.delegateScope(ctx, c, userID)
	sc.admin = admin
	return sc, err
}

// delegateScope is scopeFor without the admin check (which may ask
// Telegram): admin is set only for global admins.
func (h *Handlers) delegateScope(ctx context.Context, c domain.Committee, userID int64) (scope, error) {
	sc := scope{committee: c, admin: h.admins[userID]}
	d, err := h.committees.DelegateOf(ctx, c.ID, userID)
	switch {
	case err == nil:
		sc.delegate = &d
	case !errors.Is(err, storage.ErrNotFound):
		return sc, err
	}
	return sc, nil
}

// isCommitteeAdmin: global admins, and Telegram administrators of the
// committee's group (asked even from a private chat).
func (h *Handlers) isCommitteeAdmin(ctx context.Context, c domain.Committee, userID int64) (bool, error) {
	if h.admins[userID] {
		return true, nil
	}
	if c.ChatID == 0 {
		return false, nil
	}
	admin, err := h.isGroupAdmin(ctx, c.ChatID, userID)
	if err != nil && (bot.IsChatNotFound(err) || bot.IsBlocked(err)) {
		// The bot is no longer in the group: nobody but global admins.
		return false, nil
	}
	return admin, err
}

// committeeFor finds the committee of a request. When it cannot, and
// explain is set, it tells the user why (group not set up, not a member
// of any committee, or several to choose from) and reports found=false.
func (h *Handlers) committeeFor(ctx context.Context, r *bot.Request, explain bool) (domain.Committee, bool, error) {
	chat, _ := r.Chat()
	user, _ := r.Sender()
	if chat.IsGroup() {
		c, err := h.committees.ByChat(ctx, chat.ID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			if explain {
				return c, false, h.reply(ctx, r, h.cat.T(r.Lang, "group_not_setup", nil), nil)
			}
			return c, false, nil
		case err != nil:
			return c, false, err
		}
		// Remember it, so the user's private commands are about this bloc.
		if err := h.current.SetCurrentCommittee(ctx, user.ID, c.ID); err != nil {
			return c, false, err
		}
		return c, true, nil
	}

	ids, err := h.committees.UserCommittees(ctx, user.ID)
	if err != nil {
		return domain.Committee{}, false, err
	}
	cur, err := h.current.CurrentCommittee(ctx, user.ID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return domain.Committee{}, false, err
	}
	pick := ""
	switch {
	case cur != "" && (slices.Contains(ids, cur) || h.admins[user.ID]):
		pick = cur
	case len(ids) == 1:
		pick = ids[0]
	case cur != "":
		// An admin of that committee's group who is not a delegate.
		if c, err := h.committees.Get(ctx, cur); err == nil {
			if ok, err := h.isCommitteeAdmin(ctx, c, user.ID); err == nil && ok {
				return c, true, nil
			}
		}
	}
	if pick == "" && len(ids) > 1 {
		if explain {
			return domain.Committee{}, false, h.chooseCommittee(ctx, r, ids)
		}
		return domain.Committee{}, false, nil
	}
	if pick == "" {
		if explain {
			return domain.Committee{}, false, h.reply(ctx, r, h.cat.T(r.Lang, "no_committee_private", nil), nil)
		}
		return domain.Committee{}, false, nil
	}
	c, err := h.committees.Get(ctx, pick)
	if errors.Is(err, storage.ErrNotFound) {
		if explain {
			return c, false, h.reply(ctx, r, h.cat.T(r.Lang, "no_committee_private", nil), nil)
		}
		return c, false, nil
	}
	return c, err == nil, err
}

// chooseCommittee offers one button per committee the user belongs to.
func (h *Handlers) chooseCommittee(ctx context.Context, r *bot.Request, ids []string) error {
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, id := range ids {
		c, err := h.committees.Get(ctx, id)
		if err != nil {
			continue
		}
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(truncate(c.Name, 60), routeUse.data(c.ID))))
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return h.reply(ctx, r, h.cat.T(r.Lang, "choose_committee", nil), &kb)
}

// useButton switches the user's current committee.
func (h *Handlers) useButton(ctx context.Context, r *bot.Request) error {
	user, _ := r.Sender()
	ids, err := h.committees.UserCommittees(ctx, user.ID)
	if err != nil {
		return err
	}
	c, err := h.committees.Get(ctx, r.Data)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !slices.Contains(ids, c.ID) && !h.admins[user.ID]) {
		h.unknownButton(r)
		return nil
	}
	if err != nil {
		return err
	}
	if err := h.current.SetCurrentCommittee(ctx, user.ID, c.ID); err != nil {
		return err
	}
	return h.editCallback(ctx, r, h.cat.T(r.Lang, "committee_chosen", i18n.Data{"Name": c.Name}), nil)
}

// editCallback replaces the text (and buttons) of the message whose button
// was pressed; "not modified" is not an error.
func (h *Handlers) editCallback(ctx context.Context, r *bot.Request, text string, kb *tgbotapi.InlineKeyboardMarkup) error {
	chat, _ := r.Chat()
	msgID, ok := r.CallbackMessageID()
	if !ok {
		return nil
	}
	edit := tgbotapi.NewEditMessageText(chat.ID, msgID, text)
	edit.ParseMode = tgbotapi.ModeHTML
	edit.DisableWebPagePreview = true
	if kb != nil {
		edit.ReplyMarkup = kb
	}
	return h.send.Send(ctx, edit)
}

// setup binds the group to a new committee. The name defaults to the
// group's title.
func (h *Handlers) setup(ctx context.Context, r *bot.Request) error {
	chat, _ := r.Chat()
	user, _ := r.Sender()
	admin, err := h.isAdmin(ctx, r)
	if err != nil {
		return err
	}
	if !admin {
		return h.reply(ctx, r, h.cat.T(r.Lang, "setup_admin_only", nil), nil)
	}
	name := strings.TrimSpace(r.Args)
	if name == "" {
		name = chat.Title
	}
	if err := domain.ValidName(name); err != nil {
		return h.reply(ctx, r, h.cat.T(r.Lang, "bad_name", i18n.Data{"Max": domain.MaxNameLen}), nil)
	}
	year := h.now().In(h.loc).Year()
	c, err := h.committees.Create(ctx, chat.ID, chat.Title, name, h.loc.String(), h.cat.Default(), year, user.ID)
	switch {
	case errors.Is(err, storage.ErrAlreadyBound) && c.Thread != r.Thread():
		// /setup in another topic of a forum moves the bloc's posts there.
		if err := h.committees.SetThread(ctx, c.ID, r.Thread()); err != nil {
			return err
		}
		return h.reply(ctx, r, h.cat.T(r.Lang, "setup_topic_moved", i18n.Data{"Name": c.Name}), nil)
	case errors.Is(err, storage.ErrAlreadyBound):
		return h.reply(ctx, r, h.cat.T(r.Lang, "setup_already", i18n.Data{"Name": c.Name, "Since": h.date(c.Created, c)}), nil)
	case err != nil:
		return err
	}
	if r.Thread() != 0 {
		// Announcements and reminders go to the topic of /setup.
		if err := h.committees.SetThread(ctx, c.ID, r.Thread()); err != nil {
			return err
		}
	}
	if err := h.current.SetCurrentCommittee(ctx, user.ID, c.ID); err != nil {
		return err
	}
	if err := h.scheduleYearTurn(ctx, c); err != nil {
		return err
	}
	return h.reply(ctx, r, h.cat.T(r.Lang, "setup_done", i18n.Data{"Name": c.Name, "Year": c.Year}), nil)
}

// JobYearTurn turns a committee's emulation year on 1 January, in its time
// zone.
const JobYearTurn = "year_turn"

type yearPayload struct {
	Committee string `json:"c"`
	Year      int    `json:"year"`
}

// scheduleYearTurn schedules the turn to next calendar year (in the
// committee's time zone) at its first midnight. One job per committee and
// year: scheduling it again, from any replica, is the same job.
func (h *Handlers) scheduleYearTurn(ctx context.Context, c domain.Committee) error {
	loc := c.Location()
	next := h.now().In(loc).Year() + 1
	payload, err := json.Marshal(yearPayload{Committee: c.ID, Year: next})
	if err != nil {
		return err
	}
	return h.jobs.Schedule(ctx, storage.Job{
		ID: fmt.Sprintf("year.%s.%d", c.ID, next), Kind: JobYearTurn, Payload: payload,
		DueAt: time.Date(next, time.January, 1, 0, 0, 0, 0, loc),
	})
}

// ScheduleYearTurns makes sure every committee has its next year turn
// scheduled (at start; committees made before the turn existed have none).
func (h *Handlers) ScheduleYearTurns(ctx context.Context) error {
	ids, err := h.committees.IDs(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		c, err := h.committees.Get(ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := h.scheduleYearTurn(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// runYearTurn moves the committee to the new year (never backwards: a
// /year correction stands), tells its group with the year's head and
// deputy, and schedules the next turn.
func (h *Handlers) runYearTurn(ctx context.Context, job *scheduler.Job) error {
	var p yearPayload
	if err := json.Unmarshal(job.Payload(), &p); err != nil {
		return fmt.Errorf("year turn %s: %w", job.ID(), err)
	}
	turned, err := h.committees.TurnYear(ctx, p.Committee, p.Year)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	c, err := h.committees.Get(ctx, p.Committee)
	if err != nil {
		return err
	}
	if err := h.scheduleYearTurn(ctx, c); err != nil {
		return err
	}
	if !turned || c.ChatID == 0 {
		return nil
	}
	lang := h.chatLang(ctx, c.ChatID)
	text, err := h.statusHeader(ctx, lang, c)
	if err != nil {
		return err
	}
	text = h.cat.T(lang, "year_turned", i18n.Data{"Year": p.Year}) + "\n\n" + text
	return h.postOnce(ctx, job, c, text)
}

// date formats a date in the committee's time zone.
func (h *Handlers) date(t time.Time, c domain.Committee) string {
	return t.In(c.Location()).Format("02/01/2006")
}

// shortTime is a time in lists: "15:04 02/01" within the current year (in
// the committee's time zone), with the year otherwise, so that a date of
// another year is never read as this year's.
func (h *Handlers) shortTime(t time.Time, c domain.Committee) string {
	loc := c.Location()
	if t.In(loc).Year() != h.now().In(loc).Year() {
		return t.In(loc).Format("15:04 02/01/2006")
	}
	return t.In(loc).Format("15:04 02/01")
}

// chatMember follows the bot's own membership: removed from a group, the
// committee is detached (its data kept); any member change drops cached
// admin answers.
func (h *Handlers) chatMember(ctx context.Context, r *bot.Request) error {
	chat, ok := r.Chat()
	if !ok {
		return nil
	}
	h.groupAdmins.forget(chat.ID)
	m := r.Update.MyChatMember
	if m == nil || m.NewChatMember.User == nil {
		return nil
	}
	switch m.NewChatMember.Status {
	case "member", "administrator":
		return h.botAddedBack(ctx, chat)
	case "left", "kicked":
		c, err := h.committees.Detach(ctx, chat.ID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		h.log.InfoContext(ctx, "bot removed from a committee's group; committee detached", "committee", c.ID, "chat_id", chat.ID)
	}
	return nil
}

// botAddedBack re-binds the committee a group had before the bot was
// removed from it, and says so in the group.
func (h *Handlers) botAddedBack(ctx context.Context, chat bot.Chat) error {
	if !chat.IsGroup() {
		return nil
	}
	id, err := h.committees.FormerCommittee(ctx, chat.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	err = h.committees.Reattach(ctx, id, chat.ID)
	if errors.Is(err, storage.ErrAlreadyBound) || errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	c, err := h.committees.Get(ctx, id)
	if err != nil {
		return err
	}
	h.log.InfoContext(ctx, "bot added back to a committee's group; committee reattached", "committee", c.ID, "chat_id", chat.ID)
	lang := h.chatLang(ctx, chat.ID)
	if err := h.sendHTML(ctx, chat.ID, h.cat.T(lang, "committee_reattached", i18n.Data{"Name": c.Name}), nil, inTopic(c)); err != nil &&
		!bot.IsBlocked(err) && !bot.IsChatNotFound(err) {
		return err
	}
	return nil
}

// migrate makes the committee follow its group when Telegram upgrades it to
// a supergroup with a new chat id.
func (h *Handlers) migrate(ctx context.Context, r *bot.Request) error {
	m, ok := r.Message()
	if !ok {
		return nil
	}
	from, to := m.Chat.ID, m.MigrateToChatID
	if m.MigrateFromChatID != 0 {
		from, to = m.MigrateFromChatID, m.Chat.ID
	}
	if from == 0 || to == 0 {
		return nil
	}
	if err := h.committees.Migrate(ctx, from, to); err != nil {
		return fmt.Errorf("migrate chat %d to %d: %w", from, to, err)
	}
	if lang, err := h.prefs.ChatLanguage(ctx, from); err == nil {
		if err := h.prefs.SetChatLanguage(ctx, to, lang); err != nil {
			return err
		}
	}
	return nil
}
