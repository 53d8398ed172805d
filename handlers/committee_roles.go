package handlers

import (
	"context"
	"errors"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// role sets a unit's role for the committee's year: /role CODE
// head|deputy|member. Without arguments it offers buttons.
func (h *committeeHandlers) role(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	fields := strings.Fields(r.Args)
	switch len(fields) {
	case 0:
		return h.unitButtons(ctx, r, sc.committee, "role_choose_unit", routeRoleUnit)
	case 1:
		return h.roleButtons(ctx, r, sc.committee, domain.NormalizeUnitCode(fields[0]), false)
	case 2:
		return h.applyRole(ctx, r, sc.committee, domain.NormalizeUnitCode(fields[0]), strings.ToLower(fields[1]), false)
	}
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "role_usage", nil), nil)
}

func (h *committeeHandlers) roleButtons(ctx context.Context, r *bot.Request, c domain.Committee, code string, edit bool) error {
	u, err := h.committees.Unit(ctx, c.ID, code)
	if errors.Is(err, storage.ErrNotFound) {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "unit_unknown", i18n.Data{"Code": truncate(code, 40)}), nil)
	}
	if err != nil {
		return err
	}
	var row []tgbotapi.InlineKeyboardButton
	for _, role := range []string{domain.RoleHead, domain.RoleDeputy, domain.RoleMember} {
		row = append(row, tgbotapi.NewInlineKeyboardButtonData(h.core.roleName(r.Lang, role), routeRoleSet.data(c.ID, u.Code, role)))
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(row)
	text := h.cat.T(r.Lang, "role_choose_role", i18n.Data{"Code": u.Code, "Name": u.Name, "Year": c.Year})
	if edit {
		return h.core.editCallback(ctx, r, text, &kb)
	}
	return h.core.reply(ctx, r, text, &kb)
}

func (h *committeeHandlers) applyRole(ctx context.Context, r *bot.Request, c domain.Committee, code, role string, edit bool) error {
	out := func(text string) error {
		if edit {
			return h.core.editCallback(ctx, r, text, nil)
		}
		return h.core.reply(ctx, r, text, nil)
	}
	if domain.ValidRole(role) != nil {
		return out(h.cat.T(r.Lang, "role_usage", nil))
	}
	user, _ := r.Sender()
	changes, err := h.committees.SetRole(ctx, c.ID, c.Year, code, role, user.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return out(h.cat.T(r.Lang, "unit_unknown", i18n.Data{"Code": truncate(code, 40)}))
	case err != nil:
		return err
	}
	if len(changes) == 0 {
		return out(h.cat.T(r.Lang, "role_unchanged", i18n.Data{"Code": code, "Role": h.core.roleName(r.Lang, role)}))
	}
	var b strings.Builder
	for i, ch := range changes {
		if i > 0 {
			b.WriteString("\n")
		}
		if ch.Unit == "" {
			b.WriteString(h.cat.T(r.Lang, "role_cleared", i18n.Data{"Code": ch.Previous, "Role": h.core.roleName(r.Lang, ch.Role), "Year": ch.Year}))
		} else {
			b.WriteString(h.cat.T(r.Lang, "role_set", i18n.Data{"Code": ch.Unit, "Role": h.core.roleName(r.Lang, ch.Role), "Year": ch.Year}))
		}
	}
	return out(b.String())
}

// roleUnitButton: a unit was chosen; offer the roles.
func (h *committeeHandlers) roleUnitButton(ctx context.Context, r *bot.Request, sc scope, p []string) error {
	return h.roleButtons(ctx, r, sc.committee, p[0], true)
}

// roleSetButton applies the chosen role.
func (h *committeeHandlers) roleSetButton(ctx context.Context, r *bot.Request, sc scope, p []string) error {
	return h.applyRole(ctx, r, sc.committee, p[0], p[1], true)
}

// year sets the bloc's current emulation year: /year <YYYY>. The head and
// deputy shown everywhere are those of that year.
func (h *committeeHandlers) year(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	arg := strings.TrimSpace(r.Args)
	if arg == "" {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "year_current", i18n.Data{"Year": sc.committee.Year}), nil)
	}
	y, err := strconv.Atoi(arg)
	if err != nil || domain.ValidYear(y) != nil {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "year_usage", nil), nil)
	}
	if err := h.committees.SetYear(ctx, sc.committee.ID, y); err != nil {
		return err
	}
	c, err := h.committees.Get(ctx, sc.committee.ID)
	if err != nil {
		return err
	}
	text, err := h.statusHeader(ctx, r.Lang, c)
	if err != nil {
		return err
	}
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "year_set", i18n.Data{"Year": y})+"\n\n"+text, nil)
}
