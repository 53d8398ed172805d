package handlers

import (
	"context"
	"errors"
	"html"
	"regexp"
	"strings"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// start greets the user. A /start with a payload comes from a deep link
// (an invite or a ballot); a payload nobody issued is refused clearly.
func (h *Handlers) start(ctx context.Context, r *bot.Request) error {
	chat, _ := r.Chat()
	if r.Args != "" {
		return h.reply(ctx, r, h.cat.T(r.Lang, "start_bad_token", nil), nil)
	}
	if chat.IsGroup() {
		return h.reply(ctx, r, h.cat.T(r.Lang, "start_group", nil), nil)
	}
	user, _ := r.Sender()
	return h.reply(ctx, r, h.cat.T(r.Lang, "start_private", i18n.Data{"Name": user.DisplayName()}), nil)
}

// help lists the commands the caller may use in this chat.
func (h *Handlers) help(ctx context.Context, r *bot.Request) error {
	chat, _ := r.Chat()
	admin, err := h.isAdmin(ctx, r)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(h.cat.T(r.Lang, "help_title", nil))
	b.WriteString("\n\n")
	b.WriteString(h.cat.T(r.Lang, "help_section_general", nil))
	for _, c := range h.commands {
		if !c.visible(chat.IsPrivate(), admin) {
			continue
		}
		b.WriteString("\n")
		b.WriteString(h.cat.T(r.Lang, "help_line", i18n.Data{"Command": c.name, "Description": h.cat.T(r.Lang, c.descID, nil)}))
	}
	b.WriteString("\n\n")
	if chat.IsPrivate() {
		b.WriteString(h.cat.T(r.Lang, "help_footer_private", nil))
	} else {
		b.WriteString(h.cat.T(r.Lang, "help_footer_group", nil))
	}
	return h.reply(ctx, r, b.String(), nil)
}

// lang switches the language: the caller's own in a private chat, the
// group's (admins only) in a group. Without an argument it offers buttons.
func (h *Handlers) lang(ctx context.Context, r *bot.Request) error {
	want := strings.ToLower(strings.TrimSpace(r.Args))
	if want == "" {
		kb := h.langKeyboard()
		return h.reply(ctx, r, h.cat.T(r.Lang, "lang_choose", nil), &kb)
	}
	if !i18n.Supported(want) {
		return h.reply(ctx, r, h.cat.T(r.Lang, "lang_unknown", i18n.Data{"Lang": truncate(want, 16)}), nil)
	}
	text, err := h.setLang(ctx, r, want)
	if err != nil {
		return err
	}
	return h.reply(ctx, r, text, nil)
}

func (h *Handlers) langKeyboard() tgbotapi.InlineKeyboardMarkup {
	var row []tgbotapi.InlineKeyboardButton
	for _, l := range i18n.Languages {
		row = append(row, tgbotapi.NewInlineKeyboardButtonData(h.cat.T(l, "lang_name", nil), "lang:"+l))
	}
	return tgbotapi.NewInlineKeyboardMarkup(row)
}

// setLang stores the choice and returns the confirmation in the new
// language, or the refusal in the current one.
func (h *Handlers) setLang(ctx context.Context, r *bot.Request, lang string) (string, error) {
	chat, _ := r.Chat()
	user, _ := r.Sender()
	if chat.IsGroup() {
		admin, err := h.isAdmin(ctx, r)
		if err != nil {
			return "", err
		}
		if !admin {
			return h.cat.T(r.Lang, "lang_group_admin_only", nil), nil
		}
		if err := h.prefs.SetChatLanguage(ctx, chat.ID, lang); err != nil {
			return "", err
		}
		r.Lang = lang
		return h.cat.T(lang, "lang_set_group", nil), nil
	}
	if err := h.prefs.SetLanguage(ctx, user.ID, lang); err != nil {
		return "", err
	}
	r.Lang = lang
	return h.cat.T(lang, "lang_set", nil), nil
}

// langButton handles a press on a language button: the message is edited
// into the confirmation so the buttons cannot be pressed again by mistake.
func (h *Handlers) langButton(ctx context.Context, r *bot.Request) error {
	if !i18n.Supported(r.Data) {
		r.Answer(plain(h.cat.T(r.Lang, "unknown_button", nil)), false)
		return nil
	}
	text, err := h.setLang(ctx, r, r.Data)
	if err != nil {
		return err
	}
	chat, _ := r.Chat()
	msgID, ok := r.CallbackMessageID()
	if !ok {
		return nil
	}
	edit := tgbotapi.NewEditMessageText(chat.ID, msgID, text)
	edit.ParseMode = tgbotapi.ModeHTML
	if _, err := h.send.Send(ctx, edit); err != nil && !bot.IsNotModified(err) {
		return err
	}
	return nil
}

// cancel leaves the current step-by-step dialogue.
func (h *Handlers) cancel(ctx context.Context, r *bot.Request) error {
	user, ok := r.Sender()
	if !ok {
		return nil
	}
	had, err := h.dialogs.Clear(ctx, user.ID)
	if err != nil {
		return err
	}
	id := "cancel_nothing"
	if had {
		id = "cancel_done"
	}
	return h.reply(ctx, r, h.cat.T(r.Lang, id, nil), nil)
}

// text handles a plain message: input to the user's dialogue if one is
// under way, else a hint in private chats; groups are left in peace.
func (h *Handlers) text(ctx context.Context, r *bot.Request) error {
	chat, _ := r.Chat()
	if !chat.IsPrivate() {
		return nil
	}
	user, _ := r.Sender()
	_, err := h.dialogs.Get(ctx, user.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return h.reply(ctx, r, h.cat.T(r.Lang, "text_hint_private", nil), nil)
	case err != nil:
		return err
	}
	// No dialogue is defined yet by the foundation; an unknown one is
	// dropped so the user is not stuck in it.
	if _, err := h.dialogs.Clear(ctx, user.ID); err != nil {
		return err
	}
	return h.reply(ctx, r, h.cat.T(r.Lang, "text_hint_private", nil), nil)
}

// notFound answers unknown commands (in groups only when addressed to this
// bot by name, since group commands may be meant for other bots) and
// buttons that no longer exist.
func (h *Handlers) notFound(ctx context.Context, r *bot.Request) error {
	if _, ok := r.Callback(); ok {
		r.Answer(plain(h.cat.T(r.Lang, "unknown_button", nil)), false)
		return nil
	}
	chat, _ := r.Chat()
	if chat.IsGroup() && !strings.Contains(strings.ToLower(firstWord(r.Text())), "@"+strings.ToLower(h.botUsername)) {
		return nil
	}
	return h.reply(ctx, r, h.cat.T(r.Lang, "unknown_command", i18n.Data{"Command": truncate(r.Command, 32)}), nil)
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}

// truncate shortens user text that is echoed back.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}

var tags = regexp.MustCompile(`<[^>]*>`)

// plain turns catalogue HTML into plain text, for callback answers, which
// Telegram shows without formatting.
func plain(s string) string {
	s = tags.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	if utf8.RuneCountInString(s) > 200 {
		s = string([]rune(s)[:199]) + "…"
	}
	return s
}
