package handlers

import (
	"context"
	"strings"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/outbox"
)

// maxMessage is Telegram's limit on a message text, in UTF-16 code units
// after entity parsing. Splitting on the raw HTML length is conservative:
// the parsed text is never longer than its markup.
const maxMessage = 4096

// reply sends an HTML message to the chat of the request, split into
// several messages when it is too long for one. The keyboard goes on the
// last part.
func (h *core) reply(ctx context.Context, r *bot.Request, text string, kb *tgbotapi.InlineKeyboardMarkup) error {
	chat, ok := r.Chat()
	if !ok {
		return nil
	}
	return h.sendHTML(ctx, chat.ID, text, kb, answerTo(r)...)
}

// answerTo places an answer where its request was made: in a group, in
// the forum topic of the request and, for a command, as a reply to it, so
// that in a busy group the answer is found under its question. Documents
// and photos sent in answer take it too.
func answerTo(r *bot.Request) []outbox.SendOption {
	if chat, ok := r.Chat(); !ok || !chat.IsGroup() {
		return nil
	}
	opts := []outbox.SendOption{outbox.InThread(r.Thread())}
	if m := r.Update.Message; m != nil && r.Command != "" {
		opts = append(opts, outbox.ReplyTo(m.MessageID))
	}
	return opts
}

// inTopic places a post of committee c in its group's topic (where
// /setup was sent).
func inTopic(c domain.Committee) outbox.SendOption { return outbox.InThread(c.Thread) }

// inBlocTopic reports whether r was made where committee c posts: in its
// group, in its topic. There a post (a ballot, a meeting) is the answer;
// elsewhere the person is also told where it went.
func inBlocTopic(r *bot.Request, c domain.Committee) bool {
	chat, _ := r.Chat()
	return chat.ID == c.ChatID && r.Thread() == c.Thread
}

// sendHTML sends text to a chat, split at line boundaries when needed.
func (h *core) sendHTML(ctx context.Context, chatID int64, text string, kb *tgbotapi.InlineKeyboardMarkup, opts ...outbox.SendOption) error {
	parts := splitMessage(text, maxMessage)
	for i, p := range parts {
		msg := tgbotapi.NewMessage(chatID, p)
		msg.ParseMode = tgbotapi.ModeHTML
		msg.DisableWebPagePreview = true
		if i == len(parts)-1 && kb != nil {
			msg.ReplyMarkup = *kb
		}
		if err := h.send.Send(ctx, msg, opts...); err != nil {
			return err
		}
	}
	return nil
}

// utf16Len is the length of s as Telegram counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// splitMessage cuts text into parts of at most max UTF-16 units, at line
// breaks where possible. Our messages keep every HTML tag within one line,
// so cutting between lines never breaks the markup; a single line longer
// than max (only possible with user text, which is escaped and tag-free) is
// cut between runes, never inside an HTML entity.
func splitMessage(text string, max int) []string {
	if utf16Len(text) <= max {
		return []string{text}
	}
	var parts []string
	var cur strings.Builder
	curLen := 0
	flush := func() {
		if s := strings.TrimRight(cur.String(), "\n"); s != "" {
			parts = append(parts, s)
		}
		cur.Reset()
		curLen = 0
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		l := utf16Len(line)
		if curLen+l > max {
			flush()
		}
		for l > max {
			head, rest := cutLine(line, max)
			parts = append(parts, head)
			line, l = rest, utf16Len(rest)
		}
		cur.WriteString(line)
		curLen += l
	}
	flush()
	return parts
}

// cutLine cuts line after at most max UTF-16 units, backing off so that an
// HTML entity such as &amp; is never split.
func cutLine(line string, max int) (string, string) {
	n, cut := 0, 0
	for i, r := range line {
		if n+utf16.RuneLen(r) > max {
			break
		}
		n += utf16.RuneLen(r)
		cut = i + len(string(r))
	}
	if amp := strings.LastIndexByte(line[:cut], '&'); amp >= 0 && !strings.Contains(line[amp:cut], ";") {
		cut = amp
	}
	return line[:cut], line[cut:]
}

// editCallback replaces the text (and buttons) of the message whose button
// was pressed; "not modified" is not an error.
func (h *core) editCallback(ctx context.Context, r *bot.Request, text string, kb *tgbotapi.InlineKeyboardMarkup, opts ...outbox.SendOption) error {
	chat, _ := r.Chat()
	msgID, ok := r.CallbackMessageID()
	if !ok {
		return nil
	}
	edit := tgbotapi.NewEditMessageText(chat.ID, msgID, text)
	edit.ParseMode = tgbotapi.ModeHTML
	edit.DisableWebPagePreview = true
	if kb != nil {
		edit.ReplyMarkup = kb
	}
	return h.send.Send(ctx, edit, opts...)
}

// date formats a date in the committee's time zone.
func (h *core) date(t time.Time, c domain.Committee) string {
	return t.In(c.Location()).Format("02/01/2006")
}

// shortTime is a time in lists: "15:04 02/01" within the current year (in
// the committee's time zone), with the year otherwise, so that a date of
// another year is never read as this year's.
func (h *core) shortTime(t time.Time, c domain.Committee) string {
	loc := c.Location()
	if t.In(loc).Year() != h.now().In(loc).Year() {
		return t.In(loc).Format("15:04 02/01/2006")
	}
	return t.In(loc).Format("15:04 02/01")
}

// deepLink is the t.me link that opens a private chat with /start payload.
func (h *core) deepLink(payload string) string {
	if payload == "" {
		return "https://t.me/" + h.botUsername
	}
	return "https://t.me/" + h.botUsername + "?start=" + payload
}

// cancelButton closes a confirmation without doing anything.
func (h *core) cancelButton(ctx context.Context, r *bot.Request) error {
	return h.editCallback(ctx, r, h.cat.T(r.Lang, "cancelled", nil), nil)
}
