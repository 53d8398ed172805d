package handlers

import (
	"context"
	"errors"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// unitAdd adds a member unit: /unit_add CODE Full name. Without arguments
// it asks step by step in a private chat.
func (h *Handlers) unitAdd(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	if strings.TrimSpace(r.Args) == "" {
		return h.startForm(ctx, r, formUnitAdd, sc.committee)
	}
	code, name, _ := strings.Cut(strings.TrimSpace(r.Args), " ")
	return h.addUnit(ctx, r, sc.committee, code, name)
}

// addUnit validates and stores a unit, answering with what was wrong.
func (h *Handlers) addUnit(ctx context.Context, r *bot.Request, c domain.Committee, code, name string) error {
	code = domain.NormalizeUnitCode(code)
	name = strings.TrimSpace(name)
	if err := domain.ValidUnitCode(code); err != nil {
		return h.reply(ctx, r, h.cat.T(r.Lang, "bad_unit_code", i18n.Data{"Code": truncate(code, 40)}), nil)
	}
	if name == "" {
		return h.reply(ctx, r, h.cat.T(r.Lang, "unit_add_usage", nil), nil)
	}
	if err := domain.ValidName(name); err != nil {
		return h.reply(ctx, r, h.cat.T(r.Lang, "bad_name", i18n.Data{"Max": domain.MaxNameLen}), nil)
	}
	err := h.committees.AddUnit(ctx, c.ID, domain.Unit{Code: code, Name: name})
	switch {
	case errors.Is(err, storage.ErrConflict):
		return h.reply(ctx, r, h.cat.T(r.Lang, "unit_exists", i18n.Data{"Code": code}), nil)
	case err != nil:
		return err
	}
	return h.reply(ctx, r, h.cat.T(r.Lang, "unit_added", i18n.Data{"Code": code, "Name": name}), nil)
}

// unitRemove asks to confirm removing a unit; without a code it offers the
// units as buttons.
func (h *Handlers) unitRemove(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	code := domain.NormalizeUnitCode(r.Args)
	if code == "" {
		return h.unitButtons(ctx, r, sc.committee, "unit_remove_choose", routeUnitRemove)
	}
	return h.confirmUnitRemove(ctx, r, sc.committee, code, false)
}

func (h *Handlers) confirmUnitRemove(ctx context.Context, r *bot.Request, c domain.Committee, code string, edit bool) error {
	u, err := h.committees.Unit(ctx, c.ID, code)
	if errors.Is(err, storage.ErrNotFound) {
		return h.reply(ctx, r, h.cat.T(r.Lang, "unit_unknown", i18n.Data{"Code": truncate(code, 40)}), nil)
	}
	if err != nil {
		return err
	}
	ds, err := h.committees.UnitDelegates(ctx, c.ID, code)
	if err != nil {
		return err
	}
	text := h.cat.N(r.Lang, "unit_remove_confirm", len(ds), i18n.Data{"Code": u.Code, "Name": u.Name})
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_remove", nil), routeUnitRemoved.data(c.ID, u.Code)),
		tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_cancel", nil), routeCancel.data()),
	))
	if edit {
		return h.editCallback(ctx, r, text, &kb)
	}
	return h.reply(ctx, r, text, &kb)
}

// unitButtons offers the committee's units as buttons "route:cid:CODE".
func (h *Handlers) unitButtons(ctx context.Context, r *bot.Request, c domain.Committee, promptID string, rt route) error {
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return err
	}
	if len(units) == 0 {
		return h.reply(ctx, r, h.cat.T(r.Lang, "units_none", nil), nil)
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	var row []tgbotapi.InlineKeyboardButton
	for _, u := range units {
		row = append(row, tgbotapi.NewInlineKeyboardButtonData(u.Code, rt.data(c.ID, u.Code)))
		if len(row) == 3 {
			rows = append(rows, row)
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return h.reply(ctx, r, h.cat.T(r.Lang, promptID, nil), &kb)
}

// buttonScope checks a button's committee id against the caller's rights
// in that committee: forged or stale data gets a short refusal.
func (h *Handlers) buttonScope(ctx context.Context, r *bot.Request, committeeID string, admin bool) (scope, bool, error) {
	user, _ := r.Sender()
	return h.buttonScopeWith(r, admin, func() (scope, error) {
		c, err := h.committees.Get(ctx, committeeID)
		if err != nil {
			return scope{}, err
		}
		return h.scopeFor(ctx, c, user.ID)
	})
}

func (h *Handlers) buttonScopeWith(r *bot.Request, admin bool, load func() (scope, error)) (scope, bool, error) {
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

// adminButton parses the data of a button of route rt, "<committee>:<more
// parts>", checks
// the presser administers that committee, and returns the parts after the
// committee id. Forged data gets a short refusal and ok=false.
func (h *Handlers) adminButton(ctx context.Context, r *bot.Request, rt route) (parts []string, sc scope, ok bool, err error) {
	p, ok := h.buttonParts(r, rt)
	if !ok {
		return nil, scope{}, false, nil
	}
	sc, ok, err = h.buttonScope(ctx, r, p[0], true)
	return p[1:], sc, ok && err == nil, err
}

// unitRemoveButton: a unit was chosen for removal; ask to confirm.
func (h *Handlers) unitRemoveButton(ctx context.Context, r *bot.Request) error {
	p, sc, ok, err := h.adminButton(ctx, r, routeUnitRemove)
	if !ok {
		return err
	}
	return h.confirmUnitRemove(ctx, r, sc.committee, p[0], true)
}

// unitRemoveConfirmed removes the unit, its delegates and open invites.
func (h *Handlers) unitRemoveConfirmed(ctx context.Context, r *bot.Request) error {
	p, sc, ok, err := h.adminButton(ctx, r, routeUnitRemoved)
	if !ok {
		return err
	}
	admin, _ := r.Sender()
	removed, err := h.committees.RemoveUnit(ctx, sc.committee.ID, p[0], admin.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return h.editCallback(ctx, r, h.cat.T(r.Lang, "unit_unknown", i18n.Data{"Code": p[0]}), nil)
	}
	var onBallot *storage.UnitOnBallotError
	if errors.As(err, &onBallot) {
		return h.editCallback(ctx, r, h.cat.T(r.Lang, "unit_on_open_ballot", i18n.Data{"Code": p[0], "ID": onBallot.Ballot}), nil)
	}
	if err != nil {
		return err
	}
	if _, err := h.committees.RevokeInvites(ctx, sc.committee.ID, p[0]); err != nil {
		return err
	}
	return h.editCallback(ctx, r, h.cat.N(r.Lang, "unit_removed", len(removed), i18n.Data{"Code": p[0]}), nil)
}

// cancelButton closes a confirmation without doing anything.
func (h *Handlers) cancelButton(ctx context.Context, r *bot.Request) error {
	return h.editCallback(ctx, r, h.cat.T(r.Lang, "cancelled", nil), nil)
}

// units lists the member units with their role and delegates.
func (h *Handlers) units(ctx context.Context, r *bot.Request) error {
	c := scopeOf(r).committee
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return err
	}
	if len(units) == 0 {
		return h.reply(ctx, r, h.cat.T(r.Lang, "units_none", nil), nil)
	}
	delegates, err := h.committees.Delegates(ctx, c.ID)
	if err != nil {
		return err
	}
	byUnit := map[string][]string{}
	for _, d := range delegates {
		byUnit[d.Unit] = append(byUnit[d.Unit], d.Name)
	}
	var b strings.Builder
	b.WriteString(h.cat.N(r.Lang, "units_title", len(units), i18n.Data{"Name": c.Name}))
	for _, u := range units {
		b.WriteString("\n\n")
		b.WriteString(h.cat.T(r.Lang, "units_line", i18n.Data{"Code": u.Code, "Name": u.Name, "Role": i18n.Raw(h.roleBadge(r.Lang, c, u.Code))}))
		b.WriteString("\n")
		if names := byUnit[u.Code]; len(names) > 0 {
			b.WriteString(h.cat.T(r.Lang, "units_delegates", i18n.Data{"Names": strings.Join(names, ", ")}))
		} else {
			b.WriteString(h.cat.T(r.Lang, "units_no_delegates", nil))
		}
	}
	return h.reply(ctx, r, b.String(), nil)
}

// roleBadge is " — Khối trưởng" for the head unit, etc.; already HTML.
func (h *Handlers) roleBadge(lang string, c domain.Committee, code string) string {
	switch code {
	case c.Head:
		return h.cat.T(lang, "badge_head", nil)
	case c.Deputy:
		return h.cat.T(lang, "badge_deputy", nil)
	}
	return ""
}
