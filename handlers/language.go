package handlers

import (
	"context"
	"strings"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/i18n"
)

// Which language a reply, a reminder or a group post uses.

// Localize chooses the language of the replies: the group's choice in a
// group, else the sender's (senderLang), else the default. When Redis
// cannot be read the default language is used rather than failing.
func (h *core) Localize(next bot.Handler) bot.Handler {
	return func(ctx context.Context, r *bot.Request) error {
		r.Lang = h.cat.Default()
		chat, hasChat := r.Chat()
		user, hasUser := r.Sender()
		switch {
		case hasChat && chat.IsGroup():
			r.Lang = h.chatLang(ctx, chat.ID)
		case hasUser:
			r.Lang = h.senderLang(ctx, user)
		}
		return next(ctx, r)
	}
}

// userLang is the language of a user the bot writes to outside their own
// update (reminders, notices): the one they chose, else their Telegram
// app's as last seen (storage.Users.Language), else the default.
func (h *core) userLang(ctx context.Context, userID int64) string {
	if l, err := h.prefs.Language(ctx, userID); err == nil && i18n.Supported(l) {
		return l
	}
	return h.cat.Default()
}

// senderLang is the language of the person an update comes from: the one
// they chose with /lang, else their Telegram app's (language_code) when the
// catalogue has it, else the default. Their app's language is remembered,
// for reminders and notices sent to them later.
func (h *core) senderLang(ctx context.Context, u bot.User) string {
	chosen, seen, err := h.prefs.Languages(ctx, u.ID)
	if err == nil && i18n.Supported(chosen) {
		return chosen
	}
	if app := telegramLang(u.LanguageCode); app != "" {
		if err == nil && app != seen {
			if serr := h.prefs.SetTelegramLanguage(ctx, u.ID, app); serr != nil {
				h.log.WarnContext(ctx, "remembering a user's Telegram language failed", "err", serr.Error())
			}
		}
		return app
	}
	if err == nil && i18n.Supported(seen) {
		return seen
	}
	return h.cat.Default()
}

// telegramLang maps Telegram's language_code (an IETF tag such as "en" or
// "en-US") to a language of the catalogue, or "".
func telegramLang(code string) string {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(code)), "-")
	if i18n.Supported(base) {
		return base
	}
	return ""
}

// chatLang is the language of a group chat, else the default.
func (h *core) chatLang(ctx context.Context, chatID int64) string {
	if l, err := h.prefs.ChatLanguage(ctx, chatID); err == nil && i18n.Supported(l) {
		return l
	}
	return h.cat.Default()
}
