package handlers

import (
	"context"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/i18n"
)

// where says in which chats a command works.
type where int

const (
	anywhere where = iota
	privateOnly
	groupOnly
)

// command describes one bot command: its handler, where it works and who
// may use it. The same table drives routing, /help and setMyCommands, so
// they never disagree.
type command struct {
	name   string
	descID string // catalogue id of the one-line description
	where  where
	// committee: the command is about a committee (the group's, or the
	// user's in a private chat); admin and delegate require the caller to
	// be a committee admin or a delegate there.
	committee bool
	admin     bool
	delegate  bool
	// unbound: shown only where no committee is set up yet (/setup).
	unbound bool
	// adminDescID, if set, describes the command to admins (who can do
	// more with it).
	adminDescID string
	h           bot.Handler
}

func (h *Handlers) commandTable() []command {
	return []command{
		{name: "start", descID: "cmd_start", h: h.start},
		{name: "help", descID: "cmd_help", h: h.help},
		{name: "status", descID: "cmd_status", committee: true, h: h.status},
		{name: "units", descID: "cmd_units", committee: true, h: h.units},
		{name: "members", descID: "cmd_members", committee: true, h: h.members},
		{name: "covenant", descID: "cmd_covenant", adminDescID: "cmd_covenant_admin", committee: true, h: h.covenant},
		{name: "sign", descID: "cmd_sign", committee: true, delegate: true, h: h.sign},
		{name: "leave", descID: "cmd_leave", committee: true, delegate: true, h: h.leave},
		{name: "lang", descID: "cmd_lang", h: h.lang},
		{name: "cancel", descID: "cmd_cancel", h: h.cancel},
		{name: "setup", descID: "cmd_setup", where: groupOnly, admin: true, unbound: true, h: h.setup},
		{name: "unit_add", descID: "cmd_unit_add", committee: true, admin: true, h: h.unitAdd},
		{name: "unit_remove", descID: "cmd_unit_remove", committee: true, admin: true, h: h.unitRemove},
		{name: "invite", descID: "cmd_invite", committee: true, admin: true, h: h.invite},
		{name: "delegate_remove", descID: "cmd_delegate_remove", committee: true, admin: true, h: h.delegateRemove},
		{name: "role", descID: "cmd_role", committee: true, admin: true, h: h.role},
	}
}

// guard refuses a command used in the wrong kind of chat or by someone not
// allowed to use it, with a clear answer, before its handler runs.
func (h *Handlers) guard(c command) bot.Handler {
	return func(ctx context.Context, r *bot.Request) error {
		chat, _ := r.Chat()
		switch {
		case c.where == privateOnly && !chat.IsPrivate():
			return h.reply(ctx, r, h.cat.T(r.Lang, "error_private_only", nil), nil)
		case c.where == groupOnly && !chat.IsGroup():
			return h.reply(ctx, r, h.cat.T(r.Lang, "error_group_only", nil), nil)
		}
		if c.committee {
			return h.inCommittee(c)(c.h)(ctx, r)
		}
		return c.h(ctx, r)
	}
}

// visible reports whether c is shown to a caller: in a chat of that kind,
// with or without a committee, as an admin or a delegate or neither.
func (c command) visible(private, hasCommittee, admin, delegate bool) bool {
	if c.admin && !admin || c.delegate && !delegate {
		return false
	}
	if c.committee && !hasCommittee || c.unbound && hasCommittee {
		return false
	}
	switch c.where {
	case privateOnly:
		return private
	case groupOnly:
		return !private
	}
	return true
}

// SetCommands publishes the command menu in every language with
// setMyCommands: the default list (Vietnamese) and one per other language.
func (h *Handlers) SetCommands(ctx context.Context) error {
	for _, lang := range i18n.Languages {
		var cmds []tgbotapi.BotCommand
		for _, c := range h.commands {
			if c.admin {
				continue
			}
			cmds = append(cmds, tgbotapi.BotCommand{Command: c.name, Description: h.cat.T(lang, c.descID, nil)})
		}
		cfg := tgbotapi.NewSetMyCommands(cmds...)
		if lang != h.cat.Default() {
			cfg.LanguageCode = lang
		}
		if _, err := h.send.Request(ctx, cfg); err != nil {
			return err
		}
	}
	return nil
}
