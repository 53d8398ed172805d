package handlers

import (
	"context"
	"errors"
	"slices"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// inCommittee resolves the committee a command is about — the group's in a
// group, the user's current one in a private chat — and who the caller is
// there, then enforces the command's requirements with a clear refusal.
func (h *core) inCommittee(c command) bot.Middleware {
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
func (h *core) groupName(c domain.Committee) string {
	if c.Title != "" {
		return c.Title
	}
	return c.Name
}

// scopeFor works out whether userID administers or represents a unit in
// committee c.
func (h *core) scopeFor(ctx context.Context, c domain.Committee, userID int64) (scope, error) {
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
func (h *core) delegateScope(ctx context.Context, c domain.Committee, userID int64) (scope, error) {
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
func (h *core) isCommitteeAdmin(ctx context.Context, c domain.Committee, userID int64) (bool, error) {
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
func (h *core) committeeFor(ctx context.Context, r *bot.Request, explain bool) (domain.Committee, bool, error) {
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
func (h *core) chooseCommittee(ctx context.Context, r *bot.Request, ids []string) error {
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
func (h *core) useButton(ctx context.Context, r *bot.Request) error {
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

// buttonScope checks a button's committee id against the caller's rights
// in that committee: forged or stale data gets a short refusal.
func (h *core) buttonScope(ctx context.Context, r *bot.Request, committeeID string, admin bool) (scope, bool, error) {
	user, _ := r.Sender()
	return h.buttonScopeWith(r, admin, func() (scope, error) {
		c, err := h.committees.Get(ctx, committeeID)
		if err != nil {
			return scope{}, err
		}
		return h.scopeFor(ctx, c, user.ID)
	})
}

func (h *core) buttonScopeWith(r *bot.Request, admin bool, load func() (scope, error)) (scope, bool, error) {
	sc, err := load()
	if errors.Is(err, storage.ErrNotFound) {
		h.unknownButton(r)
		return scope{}, false, nil
	}
	if err != nil {
		return sc, false, err
	}
	c := sc.committee
	if chat, _ := r.Chat(); chat.IsGroup() && chat.ID != c.ChatID {
		h.unknownButton(r)
		return sc, false, nil
	}
	if admin && !sc.admin {
		r.Answer(plain(h.cat.T(r.Lang, "admin_only", i18n.Data{"Group": h.groupName(c)})), true)
		return sc, false, nil
	}
	return sc, true, nil
}

// viewerScope checks a button's committee against the presser for what
// the committee's members may see (its nominations, a meeting's calendar
// file): in the committee's group anyone there, in a private chat its
// administrators and delegates, whom others are told the button is for.
// Forged or stale data gets a short refusal. ok is false when refused.
func (h *core) viewerScope(ctx context.Context, r *bot.Request, committeeID string) (scope, bool, error) {
	sc, ok, err := h.buttonScope(ctx, r, committeeID, false)
	if !ok || err != nil {
		return sc, false, err
	}
	if chat, _ := r.Chat(); !chat.IsGroup() && !sc.admin && sc.delegate == nil {
		r.Answer(plain(h.cat.T(r.Lang, "delegate_only", nil)), true)
		return sc, false, nil
	}
	return sc, true, nil
}

// adminOnly is the button of route rt whose data is "<committee>:<more
// parts>" and which only the committee's administrators may press: f runs
// with the presser's scope in that committee and the parts after its id
// once the presser is checked. Forged data gets a short refusal and f does
// not run.
func (h *core) adminOnly(rt route, f func(ctx context.Context, r *bot.Request, sc scope, args []string) error) button {
	return button{rt, func(ctx context.Context, r *bot.Request) error {
		p, ok := h.buttonParts(r, rt)
		if !ok {
			return nil
		}
		sc, ok, err := h.buttonScope(ctx, r, p[0], true)
		if !ok || err != nil {
			return err
		}
		return f(ctx, r, sc, p[1:])
	}}
}

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
