package handlers

import (
	"context"
	"html"
	"regexp"
	"strings"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/i18n"
)

// generalHandlers are the commands of no particular feature: /start,
// /help, /lang, /cancel, /status, and what answers text and unknown
// commands.
type generalHandlers struct {
	core        *core
	forms       *formRunner
	committee   *committeeHandlers // /start with an invite redeems it
	voting      *votingHandlers    // /start with a ballot's link opens it
	cat         *i18n.Catalog
	prefs       Prefs
	dialogs     Dialogs
	committees  CommitteeStore
	send        Sender
	admins      map[int64]bool
	botUsername string
	// commands are every room's commands, for /help.
	commands []command
	// statusSections make the /status card, each from its room.
	statusSections []statusSection
}

// start greets the user. A /start with a payload comes from a deep link
// (an invite or a ballot); a payload nobody issued is refused clearly.
func (h *generalHandlers) start(ctx context.Context, r *bot.Request) error {
	chat, _ := r.Chat()
	if strings.HasPrefix(r.Args, "vote_") {
		return h.voting.voteLink(ctx, r, r.Args)
	}
	if r.Args != "" {
		return h.committee.redeem(ctx, r, r.Args)
	}
	if chat.IsGroup() {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "start_group", nil), nil)
	}
	user, _ := r.Sender()
	text := h.cat.T(r.Lang, "start_private", i18n.Data{"Name": user.DisplayName()})
	if c, found, err := h.core.committeeFor(ctx, r, false); err != nil {
		return err
	} else if found {
		if d, err := h.committees.DelegateOf(ctx, c.ID, user.ID); err == nil {
			text += "\n\n" + h.cat.T(r.Lang, "start_delegate", i18n.Data{"Code": d.Unit, "Committee": c.Name})
		}
	}
	return h.core.reply(ctx, r, text, nil)
}

// help lists the commands the caller may use in this chat: a guest sees
// how to join, a delegate their unit's commands, an admin the secretariat's.
func (h *generalHandlers) help(ctx context.Context, r *bot.Request) error {
	chat, _ := r.Chat()
	user, _ := r.Sender()
	c, hasCommittee, err := h.core.committeeFor(ctx, r, false)
	if err != nil {
		return err
	}
	admin, err := h.core.isAdmin(ctx, r)
	if err != nil {
		return err
	}
	delegate := false
	if hasCommittee {
		sc, err := h.core.scopeFor(ctx, c, user.ID)
		if err != nil {
			return err
		}
		admin, delegate = admin || sc.admin, sc.delegate != nil
	}
	var b strings.Builder
	b.WriteString(h.cat.T(r.Lang, "help_title", nil))
	if hasCommittee {
		b.WriteString(" — " + escape(c.Name))
	}
	sections := []struct {
		titleID string
		pick    func(command) bool
	}{
		{"help_section_general", func(c command) bool { return !c.admin }},
		{"help_section_admin", func(c command) bool { return c.admin }},
	}
	for _, s := range sections {
		var lines []string
		for _, c := range h.commands {
			if !s.pick(c) || !c.visible(chat.IsPrivate(), hasCommittee, admin, delegate) {
				continue
			}
			desc := c.descID
			if admin && c.adminDescID != "" {
				desc = c.adminDescID
			}
			lines = append(lines, h.cat.T(r.Lang, "help_line", i18n.Data{"Command": c.name, "Description": h.cat.T(r.Lang, desc, nil)}))
		}
		if len(lines) == 0 {
			continue
		}
		b.WriteString("\n\n" + h.cat.T(r.Lang, s.titleID, nil) + "\n" + strings.Join(lines, "\n"))
	}
	switch {
	case !hasCommittee && chat.IsGroup():
		b.WriteString("\n\n" + h.cat.T(r.Lang, "help_not_setup", nil))
	case !hasCommittee && h.admins[user.ID]:
		// A global admin before any bloc: how to start one, not "ask the
		// secretariat" (they are the secretariat).
		b.WriteString("\n\n" + h.cat.T(r.Lang, "help_admin_first", nil))
	case !hasCommittee:
		b.WriteString("\n\n" + h.cat.T(r.Lang, "help_guest", nil))
	}
	b.WriteString("\n\n")
	if chat.IsPrivate() {
		b.WriteString(h.cat.T(r.Lang, "help_footer_private", nil))
	} else {
		b.WriteString(h.cat.T(r.Lang, "help_footer_group", nil))
	}
	return h.core.reply(ctx, r, b.String(), nil)
}

// lang switches the language: the caller's own in a private chat, the
// group's (admins only) in a group. Without an argument it offers buttons.
func (h *generalHandlers) lang(ctx context.Context, r *bot.Request) error {
	want := strings.ToLower(strings.TrimSpace(r.Args))
	if want == "" {
		kb := h.langKeyboard()
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "lang_choose", nil), &kb)
	}
	if !i18n.Supported(want) {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "lang_unknown", i18n.Data{"Lang": truncate(want, 16)}), nil)
	}
	text, err := h.setLang(ctx, r, want)
	if err != nil {
		return err
	}
	return h.core.reply(ctx, r, text, nil)
}

func (h *generalHandlers) langKeyboard() tgbotapi.InlineKeyboardMarkup {
	var row []tgbotapi.InlineKeyboardButton
	for _, l := range i18n.Languages {
		row = append(row, tgbotapi.NewInlineKeyboardButtonData(h.cat.T(l, "lang_name", nil), routeLang.data(l)))
	}
	return tgbotapi.NewInlineKeyboardMarkup(row)
}

// setLang stores the choice and returns the confirmation in the new
// language, or the refusal in the current one.
func (h *generalHandlers) setLang(ctx context.Context, r *bot.Request, lang string) (string, error) {
	chat, _ := r.Chat()
	user, _ := r.Sender()
	if chat.IsGroup() {
		admin, err := h.core.isAdmin(ctx, r)
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
func (h *generalHandlers) langButton(ctx context.Context, r *bot.Request) error {
	if !i18n.Supported(r.Data) {
		h.core.unknownButton(r)
		return nil
	}
	text, err := h.setLang(ctx, r, r.Data)
	if err != nil {
		return err
	}
	return h.core.editCallback(ctx, r, text, nil)
}

// cancel leaves the current step-by-step dialogue.
func (h *generalHandlers) cancel(ctx context.Context, r *bot.Request) error {
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
	return h.core.reply(ctx, r, h.cat.T(r.Lang, id, nil), nil)
}

// text handles a plain message: input to the user's dialogue if one is
// under way, else a hint in private chats; groups are left in peace.
func (h *generalHandlers) text(ctx context.Context, r *bot.Request) error {
	chat, _ := r.Chat()
	if !chat.IsPrivate() {
		return nil
	}
	if handled, err := h.forms.continueForm(ctx, r); handled || err != nil {
		return err
	}
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "text_hint_private", nil), nil)
}

// notFound answers unknown commands (in groups only when addressed to this
// bot by name, since group commands may be meant for other bots) and
// buttons that no longer exist.
func (h *generalHandlers) notFound(ctx context.Context, r *bot.Request) error {
	if _, ok := r.Callback(); ok {
		h.core.unknownButton(r)
		return nil
	}
	chat, _ := r.Chat()
	if chat.IsGroup() && !strings.Contains(strings.ToLower(firstWord(r.Text())), "@"+strings.ToLower(h.botUsername)) {
		return nil
	}
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "unknown_command", i18n.Data{"Command": truncate(r.Command, 32)}), nil)
}

// escape makes user text safe inside catalogue HTML built by hand.
func escape(s string) string { return html.EscapeString(s) }

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

// Register adds the general buttons and what answers text and unknown
// commands.
func (h *generalHandlers) Register(rt *bot.Router) {
	register(rt, button{routeLang, h.langButton})
	rt.On(bot.KindText, h.text)
	rt.NotFound(h.notFound)
}
