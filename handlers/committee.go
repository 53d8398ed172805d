package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/scheduler"
	"github.com/committeebot/committeebot/storage"
)

// committeeHandlers are the committee's own commands, buttons and jobs:
// setup and the year's turn (committee.go), units, delegates and invites,
// roles, the covenant and the /status header (committee_*.go), and what
// happens to the group (the bot removed or added, a migration).
type committeeHandlers struct {
	core        *core
	forms       *formRunner
	cat         *i18n.Catalog
	prefs       Prefs
	committees  CommitteeStore
	current     CurrentCommittees
	jobs        JobScheduler
	groupAdmins *adminCache
	// joinDigest gathers the group's notices of new delegates into one
	// message per period; zero announces each join at once.
	joinDigest  time.Duration
	loc         *time.Location
	log         *slog.Logger
	now         func() time.Time
	botUsername string
}

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
	// confirmMove (else *domain.MoveError).
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

// setup binds the group to a new committee. The name defaults to the
// group's title.
func (h *committeeHandlers) setup(ctx context.Context, r *bot.Request) error {
	chat, _ := r.Chat()
	user, _ := r.Sender()
	admin, err := h.core.isAdmin(ctx, r)
	if err != nil {
		return err
	}
	if !admin {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "setup_admin_only", nil), nil)
	}
	name := strings.TrimSpace(r.Args)
	if name == "" {
		name = chat.Title
	}
	if err := domain.ValidName(name); err != nil {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "bad_name", i18n.Data{"Max": domain.MaxNameLen}), nil)
	}
	year := h.now().In(h.loc).Year()
	c, err := h.committees.Create(ctx, chat.ID, chat.Title, name, h.loc.String(), h.cat.Default(), year, user.ID)
	switch {
	case errors.Is(err, domain.ErrAlreadyBound) && c.Thread != r.Thread():
		// /setup in another topic of a forum moves the bloc's posts there.
		if err := h.committees.SetThread(ctx, c.ID, r.Thread()); err != nil {
			return err
		}
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "setup_topic_moved", i18n.Data{"Name": c.Name}), nil)
	case errors.Is(err, domain.ErrAlreadyBound):
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "setup_already", i18n.Data{"Name": c.Name, "Since": h.core.date(c.Created, c)}), nil)
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
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "setup_done", i18n.Data{"Name": c.Name, "Year": c.Year}), nil)
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
func (h *committeeHandlers) scheduleYearTurn(ctx context.Context, c domain.Committee) error {
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

// scheduleYearTurns makes sure every committee has its next year turn
// scheduled (at start; committees made before the turn existed have none).
func (h *committeeHandlers) scheduleYearTurns(ctx context.Context) error {
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
func (h *committeeHandlers) runYearTurn(ctx context.Context, job *scheduler.Job) error {
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
	lang := h.core.chatLang(ctx, c.ChatID)
	text, err := h.statusHeader(ctx, lang, c)
	if err != nil {
		return err
	}
	text = h.cat.T(lang, "year_turned", i18n.Data{"Year": p.Year}) + "\n\n" + text
	return h.core.postOnce(ctx, job, c, text)
}

// chatMember follows the bot's own membership: removed from a group, the
// committee is detached (its data kept); any member change drops cached
// admin answers.
func (h *committeeHandlers) chatMember(ctx context.Context, r *bot.Request) error {
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
func (h *committeeHandlers) botAddedBack(ctx context.Context, chat bot.Chat) error {
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
	if errors.Is(err, domain.ErrAlreadyBound) || errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
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
	lang := h.core.chatLang(ctx, chat.ID)
	if err := h.core.sendHTML(ctx, chat.ID, h.cat.T(lang, "committee_reattached", i18n.Data{"Name": c.Name}), nil, inTopic(c)); err != nil &&
		!bot.IsBlocked(err) && !bot.IsChatNotFound(err) {
		return err
	}
	return nil
}

// migrate makes the committee follow its group when Telegram upgrades it to
// a supergroup with a new chat id.
func (h *committeeHandlers) migrate(ctx context.Context, r *bot.Request) error {
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

// Jobs are the committee's deferred jobs, by kind: the turn of the year
// and the digest of the group's new delegates.
func (h *committeeHandlers) Jobs() map[string]scheduler.HandlerFunc {
	return map[string]scheduler.HandlerFunc{
		JobYearTurn:   h.runYearTurn,
		JobJoinDigest: h.runJoinDigest,
	}
}

// Register adds the committee's buttons and what happens to its group.
func (h *committeeHandlers) Register(rt *bot.Router) {
	register(rt,
		h.core.adminOnly(routeInvite, h.inviteButton),
		button{routeInviteMove, h.inviteMoveButton},
		h.core.adminOnly(routeUnitRemove, h.unitRemoveButton),
		h.core.adminOnly(routeUnitRemoved, h.unitRemoveConfirmed),
		h.core.adminOnly(routeDelegateOut, h.delegateRemoveButton),
		h.core.adminOnly(routeRoleUnit, h.roleUnitButton),
		h.core.adminOnly(routeRoleSet, h.roleSetButton),
		button{routeSign, h.signButton},
	)
	rt.On(bot.KindMember, h.chatMember)
	rt.On(bot.KindMigrate, h.migrate)
}
