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
func (h *committeeHandlers) unitAdd(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	if strings.TrimSpace(r.Args) == "" {
		return h.forms.startForm(ctx, r, formUnitAdd, sc.committee)
	}
	code, name, _ := strings.Cut(strings.TrimSpace(r.Args), " ")
	return h.addUnit(ctx, r, sc.committee, code, name)
}

// addUnit validates and stores a unit, answering with what was wrong.
func (h *committeeHandlers) addUnit(ctx context.Context, r *bot.Request, c domain.Committee, code, name string) error {
	code = domain.NormalizeUnitCode(code)
	name = strings.TrimSpace(name)
	if err := domain.ValidUnitCode(code); err != nil {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "bad_unit_code", i18n.Data{"Code": truncate(code, 40)}), nil)
	}
	if name == "" {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "unit_add_usage", nil), nil)
	}
	if err := domain.ValidName(name); err != nil {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "bad_name", i18n.Data{"Max": domain.MaxNameLen}), nil)
	}
	err := h.committees.AddUnit(ctx, c.ID, domain.Unit{Code: code, Name: name})
	switch {
	case errors.Is(err, storage.ErrConflict):
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "unit_exists", i18n.Data{"Code": code}), nil)
	case err != nil:
		return err
	}
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "unit_added", i18n.Data{"Code": code, "Name": name}), nil)
}

// unitRemove asks to confirm removing a unit; without a code it offers the
// units as buttons.
func (h *committeeHandlers) unitRemove(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	code := domain.NormalizeUnitCode(r.Args)
	if code == "" {
		return h.unitButtons(ctx, r, sc.committee, "unit_remove_choose", routeUnitRemove)
	}
	return h.confirmUnitRemove(ctx, r, sc.committee, code, false)
}

func (h *committeeHandlers) confirmUnitRemove(ctx context.Context, r *bot.Request, c domain.Committee, code string, edit bool) error {
	u, err := h.committees.Unit(ctx, c.ID, code)
	if errors.Is(err, storage.ErrNotFound) {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "unit_unknown", i18n.Data{"Code": truncate(code, 40)}), nil)
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
		return h.core.editCallback(ctx, r, text, &kb)
	}
	return h.core.reply(ctx, r, text, &kb)
}

// unitButtons offers the committee's units as buttons "route:cid:CODE".
func (h *committeeHandlers) unitButtons(ctx context.Context, r *bot.Request, c domain.Committee, promptID string, rt route) error {
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return err
	}
	if len(units) == 0 {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "units_none", nil), nil)
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
	return h.core.reply(ctx, r, h.cat.T(r.Lang, promptID, nil), &kb)
}

// unitRemoveButton: a unit was chosen for removal; ask to confirm.
func (h *committeeHandlers) unitRemoveButton(ctx context.Context, r *bot.Request, sc scope, p []string) error {
	return h.confirmUnitRemove(ctx, r, sc.committee, p[0], true)
}

// unitRemoveConfirmed removes the unit, its delegates and open invites.
func (h *committeeHandlers) unitRemoveConfirmed(ctx context.Context, r *bot.Request, sc scope, p []string) error {
	admin, _ := r.Sender()
	removed, err := h.committees.RemoveUnit(ctx, sc.committee.ID, p[0], admin.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return h.core.editCallback(ctx, r, h.cat.T(r.Lang, "unit_unknown", i18n.Data{"Code": p[0]}), nil)
	}
	var onBallot *domain.UnitOnBallotError
	if errors.As(err, &onBallot) {
		return h.core.editCallback(ctx, r, h.cat.T(r.Lang, "unit_on_open_ballot", i18n.Data{"Code": p[0], "ID": onBallot.Ballot}), nil)
	}
	if err != nil {
		return err
	}
	if _, err := h.committees.RevokeInvites(ctx, sc.committee.ID, p[0]); err != nil {
		return err
	}
	return h.core.editCallback(ctx, r, h.cat.N(r.Lang, "unit_removed", len(removed), i18n.Data{"Code": p[0]}), nil)
}

// units lists the member units with their role and delegates.
func (h *committeeHandlers) units(ctx context.Context, r *bot.Request) error {
	c := scopeOf(r).committee
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return err
	}
	if len(units) == 0 {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "units_none", nil), nil)
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
	return h.core.reply(ctx, r, b.String(), nil)
}

// roleBadge is " — Khối trưởng" for the head unit, etc.; already HTML.
func (h *committeeHandlers) roleBadge(lang string, c domain.Committee, code string) string {
	switch code {
	case c.Head:
		return h.cat.T(lang, "badge_head", nil)
	case c.Deputy:
		return h.cat.T(lang, "badge_deputy", nil)
	}
	return ""
}
