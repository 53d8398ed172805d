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

// covenant shows the covenant's signatures, or (admins) opens the signing:
// /covenant <year> | <title>.
func (h *committeeHandlers) covenant(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	args := strings.TrimSpace(r.Args)
	if args == "" {
		return h.showCovenant(ctx, r, sc)
	}
	if !sc.admin {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "admin_only", i18n.Data{"Group": h.core.groupName(sc.committee)}), nil)
	}
	yearText, title, ok := strings.Cut(args, "|")
	year, err := strconv.Atoi(strings.TrimSpace(yearText))
	title = strings.TrimSpace(title)
	if !ok || err != nil || domain.ValidYear(year) != nil {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "covenant_usage", nil), nil)
	}
	if domain.ValidCovenantTitle(title) != nil {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "covenant_bad_title", i18n.Data{"Max": domain.MaxCovenantTitleLen}), nil)
	}
	user, _ := r.Sender()
	cov, err := h.committees.OpenCovenant(ctx, sc.committee.ID, year, title, user.ID)
	switch {
	case errors.Is(err, storage.ErrConflict):
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "covenant_exists", i18n.Data{"Year": year}), nil)
	case err != nil:
		return err
	}
	text := h.cat.T(r.Lang, "covenant_opened", i18n.Data{"Year": cov.Year, "Title": cov.Title})
	kb := signKeyboard(h.cat, r.Lang, sc.committee.ID)
	if !inBlocTopic(r, sc.committee) && sc.committee.ChatID != 0 {
		// Announce it where the delegates are.
		lang := h.core.chatLang(ctx, sc.committee.ChatID)
		gkb := signKeyboard(h.cat, lang, sc.committee.ID)
		if err := h.core.sendHTML(ctx, sc.committee.ChatID, h.cat.T(lang, "covenant_opened", i18n.Data{"Year": cov.Year, "Title": cov.Title}), &gkb, inTopic(sc.committee)); err != nil &&
			!bot.IsBlocked(err) && !bot.IsChatNotFound(err) {
			return err
		}
	}
	return h.core.reply(ctx, r, text, &kb)
}

func signKeyboard(cat *i18n.Catalog, lang, committeeID string) tgbotapi.InlineKeyboardMarkup {
	return tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(cat.T(lang, "btn_sign", nil), routeSign.data(committeeID)),
	))
}

// covenantText renders signed and pending units.
func (h *committeeHandlers) covenantText(lang string, c domain.Committee, cov domain.Covenant) string {
	var b strings.Builder
	total := len(cov.Signed) + len(cov.Pending)
	b.WriteString(h.cat.T(lang, "covenant_title", i18n.Data{"Year": cov.Year, "Title": cov.Title, "Signed": len(cov.Signed), "Total": total}))
	for _, s := range cov.Signed {
		b.WriteString("\n")
		b.WriteString(h.cat.T(lang, "covenant_signed_line", i18n.Data{"Code": s.Unit, "Name": s.Name, "Date": h.core.date(s.At, c)}))
	}
	if len(cov.Pending) > 0 {
		b.WriteString("\n")
		b.WriteString(h.cat.T(lang, "covenant_pending", i18n.Data{"Units": strings.Join(cov.Pending, ", ")}))
	}
	return b.String()
}

func (h *committeeHandlers) showCovenant(ctx context.Context, r *bot.Request, sc scope) error {
	cov, err := h.committees.Covenant(ctx, sc.committee.ID)
	if errors.Is(err, storage.ErrNotFound) {
		id := "covenant_none"
		if sc.admin {
			id = "covenant_none_admin"
		}
		return h.core.reply(ctx, r, h.cat.T(r.Lang, id, nil), nil)
	}
	if err != nil {
		return err
	}
	var kb *tgbotapi.InlineKeyboardMarkup
	if len(cov.Pending) > 0 {
		k := signKeyboard(h.cat, r.Lang, sc.committee.ID)
		kb = &k
	}
	return h.core.reply(ctx, r, h.covenantText(r.Lang, sc.committee, cov), kb)
}

// sign confirms the covenant for the caller's unit.
func (h *committeeHandlers) sign(ctx context.Context, r *bot.Request) error {
	return h.signFor(ctx, r, scopeOf(r))
}

// signButton signs from the button under the covenant message.
func (h *committeeHandlers) signButton(ctx context.Context, r *bot.Request) error {
	sc, ok, err := h.core.buttonScope(ctx, r, r.Data, false)
	if !ok || err != nil {
		return err
	}
	if sc.delegate == nil {
		r.Answer(plain(h.cat.T(r.Lang, "delegate_only", nil)), true)
		return nil
	}
	return h.signFor(ctx, r, sc)
}

func (h *committeeHandlers) signFor(ctx context.Context, r *bot.Request, sc scope) error {
	user, _ := r.Sender()
	_, isButton := r.Callback()
	answer := func(text string) error {
		if isButton {
			r.Answer(plain(text), true)
			return nil
		}
		return h.core.reply(ctx, r, text, nil)
	}
	cur, err := h.committees.Covenant(ctx, sc.committee.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return answer(h.cat.T(r.Lang, "covenant_none", nil))
	}
	if err != nil {
		return err
	}
	cov, already, complete, err := h.committees.Sign(ctx, sc.committee.ID, cur.Year, domain.Signature{
		Unit: sc.delegate.Unit, UserID: user.ID, Name: user.DisplayName(),
	})
	if err != nil {
		return err
	}
	if already {
		return answer(h.cat.T(r.Lang, "covenant_already", i18n.Data{"Code": sc.delegate.Unit, "Year": cov.Year}))
	}
	if err := answer(h.cat.T(r.Lang, "covenant_signed", i18n.Data{"Code": sc.delegate.Unit, "Year": cov.Year, "Signed": len(cov.Signed), "Total": len(cov.Signed) + len(cov.Pending)})); err != nil {
		return err
	}
	if isButton {
		// Keep the message under the button current.
		kb := signKeyboard(h.cat, r.Lang, sc.committee.ID)
		var kp *tgbotapi.InlineKeyboardMarkup
		if len(cov.Pending) > 0 {
			kp = &kb
		}
		if err := h.core.editCallback(ctx, r, h.covenantText(r.Lang, sc.committee, cov), kp); err != nil {
			return err
		}
	}
	if complete && sc.committee.ChatID != 0 {
		lang := h.core.chatLang(ctx, sc.committee.ChatID)
		err := h.core.sendHTML(ctx, sc.committee.ChatID, h.cat.T(lang, "covenant_complete", i18n.Data{"Year": cov.Year, "Title": cov.Title, "Total": len(cov.Signed)}), nil, inTopic(sc.committee))
		if err != nil && !bot.IsBlocked(err) && !bot.IsChatNotFound(err) {
			return err
		}
	}
	return nil
}
