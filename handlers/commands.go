package handlers

import (
	"context"
	"encoding/json"
	"html"
	"slices"

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
	// member requires a delegate or an admin (/nominate, /withdraw).
	member bool
	// unbound: shown only where no committee is set up yet (/setup).
	unbound bool
	// adminDescID, if set, describes the command to admins (who can do
	// more with it).
	adminDescID string
	h           bot.Handler
}

func (h *Handlers) commandTable() []command {
	return []command{
		{name: "start", descID: "cmd_start", h: h.general.start},
		{name: "help", descID: "cmd_help", h: h.general.help},
		{name: "status", descID: "cmd_status", committee: true, h: h.general.status},
		{name: "units", descID: "cmd_units", committee: true, h: h.committee.units},
		{name: "members", descID: "cmd_members", committee: true, h: h.committee.members},
		{name: "covenant", descID: "cmd_covenant", adminDescID: "cmd_covenant_admin", committee: true, h: h.committee.covenant},
		{name: "sign", descID: "cmd_sign", committee: true, delegate: true, h: h.committee.sign},
		{name: "leave", descID: "cmd_leave", committee: true, delegate: true, h: h.committee.leave},
		{name: "lang", descID: "cmd_lang", h: h.general.lang},
		{name: "cancel", descID: "cmd_cancel", h: h.general.cancel},
		{name: "setup", descID: "cmd_setup", where: groupOnly, admin: true, unbound: true, h: h.committee.setup},
		{name: "unit_add", descID: "cmd_unit_add", committee: true, admin: true, h: h.committee.unitAdd},
		{name: "unit_remove", descID: "cmd_unit_remove", committee: true, admin: true, h: h.committee.unitRemove},
		{name: "invite", descID: "cmd_invite", committee: true, admin: true, h: h.committee.invite},
		{name: "delegate_remove", descID: "cmd_delegate_remove", committee: true, admin: true, h: h.committee.delegateRemove},
		{name: "role", descID: "cmd_role", committee: true, admin: true, h: h.committee.role},
		{name: "year", descID: "cmd_year", committee: true, admin: true, h: h.committee.year},
		{name: "awards", descID: "cmd_awards", h: h.nominationRoom.awardsList},
		{name: "nominate", descID: "cmd_nominate", adminDescID: "cmd_nominate_admin", committee: true, member: true, h: h.nominationRoom.nominate},
		{name: "nominations", descID: "cmd_nominations", committee: true, h: h.nominationRoom.nominationsList},
		{name: "nomination", descID: "cmd_nomination", committee: true, h: h.nominationRoom.nominationShow},
		{name: "withdraw", descID: "cmd_withdraw", committee: true, member: true, h: h.nominationRoom.withdraw},
		{name: "nomination_status", descID: "cmd_nomination_status", committee: true, admin: true, h: h.nominationRoom.nominationStatus},
		{name: "export", descID: "cmd_export", committee: true, admin: true, h: h.export.export},
		{name: "ballots", descID: "cmd_ballots", committee: true, h: h.voting.ballotsList},
		{name: "ballot", descID: "cmd_ballot", committee: true, h: h.voting.ballotShow},
		{name: "vote", descID: "cmd_vote", committee: true, delegate: true, h: h.voting.vote},
		{name: "results", descID: "cmd_results", committee: true, h: h.results.results},
		{name: "elect", descID: "cmd_elect", committee: true, admin: true, h: h.voting.elect},
		{name: "motion", descID: "cmd_motion", committee: true, admin: true, h: h.voting.motion},
		{name: "ballot_nominations", descID: "cmd_ballot_nominations", committee: true, admin: true, h: h.voting.ballotNominations},
		{name: "close", descID: "cmd_close", committee: true, admin: true, h: h.results.closeCmd},
		{name: "runoff", descID: "cmd_runoff", committee: true, admin: true, h: h.results.runoff},
		{name: "remind_voters", descID: "cmd_remind_voters", committee: true, admin: true, h: h.results.remindVoters},
		{name: "minutes_info", descID: "cmd_minutes_info", committee: true, admin: true, h: h.results.minutesInfo},
		{name: "meetings", descID: "cmd_meetings", committee: true, h: h.meetings.meetingList},
		{name: "meeting", descID: "cmd_meeting", committee: true, h: h.meetings.meetingShow},
		{name: "rsvp", descID: "cmd_rsvp", committee: true, delegate: true, h: h.meetings.rsvpCommand},
		{name: "ics", descID: "cmd_ics", committee: true, h: h.meetings.icsCommand},
		{name: "meeting_new", descID: "cmd_meeting_new", committee: true, admin: true, h: h.meetings.meetingNew},
		{name: "meeting_edit", descID: "cmd_meeting_edit", committee: true, admin: true, h: h.meetings.meetingEdit},
		{name: "meeting_cancel", descID: "cmd_meeting_cancel", committee: true, admin: true, h: h.meetings.meetingCancel},
		{name: "attendance", descID: "cmd_attendance", committee: true, admin: true, h: h.meetings.attendance},
	}
}

// guard refuses a command used in the wrong kind of chat or by someone not
// allowed to use it, with a clear answer, before its handler runs.
func (h *core) guard(c command) bot.Handler {
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
	if c.admin && !admin || c.delegate && !delegate || c.member && !admin && !delegate {
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

// languageCode is the language_code under which Telegram keeps the
// bot's menu or description in lang: none for the default language, whose
// texts go to everyone without texts of their own language.
func (h *core) languageCode(lang string) string {
	if lang == h.cat.Default() {
		return ""
	}
	return lang
}

// SetDescriptions sets, per language, the bot's description (shown in an
// empty chat with it, before Start) and short description (its profile
// and shared links), each only when Telegram's differs, like the menus.
func (h *Handlers) SetDescriptions(ctx context.Context) error {
	for _, d := range []struct{ get, set, param, id string }{
		{"getMyDescription", "setMyDescription", "description", "bot_description"},
		{"getMyShortDescription", "setMyShortDescription", "short_description", "bot_short_description"},
	} {
		for _, lang := range i18n.Languages {
			code := h.core.languageCode(lang)
			// Plain text, longer than plain() keeps.
			want := html.UnescapeString(h.core.cat.T(lang, d.id, nil))
			resp, err := h.core.send.Call(ctx, d.get, tgbotapi.Params{"language_code": code})
			if err != nil {
				return err
			}
			var have map[string]string
			if err := json.Unmarshal(resp.Result, &have); err == nil && have[d.param] == want {
				continue
			}
			if _, err := h.core.send.Call(ctx, d.set, tgbotapi.Params{d.param: want, "language_code": code}); err != nil {
				return err
			}
		}
	}
	return nil
}

// SetCommands sets the command menus Telegram shows: per scope — private
// chats, group chats, and the groups' administrators (the secretariat's
// commands too) — and per language. A menu is sent only when Telegram's
// differs (getMyCommands), so several replicas starting at once do not
// keep rewriting it.
func (h *Handlers) SetCommands(ctx context.Context) error {
	menus := []struct {
		scope tgbotapi.BotCommandScope
		pick  func(c command) bool
	}{
		{tgbotapi.NewBotCommandScopeDefault(), func(c command) bool { return !c.admin && c.where != groupOnly }},
		{tgbotapi.NewBotCommandScopeAllPrivateChats(), func(c command) bool { return !c.admin && c.where != groupOnly }},
		{tgbotapi.NewBotCommandScopeAllGroupChats(), func(c command) bool { return !c.admin && c.where != privateOnly }},
		{tgbotapi.NewBotCommandScopeAllChatAdministrators(), func(c command) bool { return c.where != privateOnly }},
	}
	for _, m := range menus {
		for _, lang := range i18n.Languages {
			var want []tgbotapi.BotCommand
			for _, c := range h.core.commands {
				if !m.pick(c) {
					continue
				}
				desc := c.descID
				if c.adminDescID != "" && m.scope.Type == "all_chat_administrators" {
					desc = c.adminDescID
				}
				want = append(want, tgbotapi.BotCommand{Command: c.name, Description: plain(h.core.cat.T(lang, desc, nil))})
			}
			code := h.core.languageCode(lang)
			resp, err := h.core.send.Request(ctx, tgbotapi.NewGetMyCommandsWithScopeAndLanguage(m.scope, code))
			if err != nil {
				return err
			}
			var have []tgbotapi.BotCommand
			if err := json.Unmarshal(resp.Result, &have); err == nil && slices.Equal(have, want) {
				continue
			}
			if _, err := h.core.send.Request(ctx, tgbotapi.NewSetMyCommandsWithScopeAndLanguage(m.scope, code, want...)); err != nil {
				return err
			}
		}
	}
	return nil
}
