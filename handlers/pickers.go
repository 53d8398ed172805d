package handlers

import (
	"context"
	"slices"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
)

// Pickers: a command that needs the number of a ballot, a meeting or a
// nomination, or an award code, and is sent without it answers with a
// button per thing it can act on; a button runs the command with that
// argument, as if typed, through the same checks (pk:<committee>:
// <command>:<argument>). Usage text comes only when there is nothing to
// pick.

// maxChoices bounds a picker's buttons (newest first); the lists
// (/ballots, /meetings, /nominations) show the rest.
const maxChoices = 10

// pickable names the commands a picker may run.
var pickable = map[string]bool{
	"close": true, "results": true, "runoff": true, "remind_voters": true, "vote": true, "minutes_info": true,
	"rsvp": true, "ics": true, "attendance": true, "meeting_cancel": true,
	"withdraw": true, "nomination": true, "ballot_nominations": true,
}

// choice is one button of a picker: its label and the argument it runs
// the command with.
type choice struct{ label, arg string }

// pickOrTell answers r's command with a picker of choices under the text
// titleID, or with noneID (and its data) when there is nothing to pick.
func (h *core) pickOrTell(ctx context.Context, r *bot.Request, c domain.Committee, titleID string, choices []choice, noneID string, none i18n.Data) error {
	if len(choices) == 0 {
		return h.reply(ctx, r, h.cat.T(r.Lang, noneID, none), nil)
	}
	if len(choices) > maxChoices {
		choices = choices[:maxChoices]
	}
	rows := make([][]tgbotapi.InlineKeyboardButton, 0, len(choices))
	for _, ch := range choices {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(
			tgbotapi.NewInlineKeyboardButtonData(truncate(ch.label, 60), routePick.data(c.ID, r.Command, ch.arg))))
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return h.reply(ctx, r, h.cat.T(r.Lang, titleID, i18n.Data{"Command": r.Command}), &kb)
}

// pickButton runs a picker's choice: the command named by the button,
// with its argument, in the committee the button was made for.
func (h *core) pickButton(ctx context.Context, r *bot.Request) error {
	p, ok := h.buttonParts(r, routePick)
	if !ok {
		return nil
	}
	i := slices.IndexFunc(h.commands, func(c command) bool { return c.name == p[1] })
	if !pickable[p[1]] || i < 0 || p[2] == "" {
		h.unknownButton(r)
		return nil
	}
	c, found, err := h.committeeFor(ctx, r, false)
	if err != nil {
		return err
	}
	if !found || c.ID != p[0] {
		// Made for another bloc than the one this chat now acts in.
		h.unknownButton(r)
		return nil
	}
	r.Command, r.Args = p[1], p[2]
	return h.guard(h.commands[i])(ctx, r)
}

// numericDesc orders decimal ids newest (largest) first.
func numericDesc(a, b string) int {
	x, _ := strconv.Atoi(a)
	y, _ := strconv.Atoi(b)
	return y - x
}
