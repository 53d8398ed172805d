// Package bot is the Telegram transport of committeebot: it owns the update
// loop (long polling or webhook), dispatches updates to bounded per-chat
// workers, routes them to handlers through a middleware chain and sends every
// outgoing call through one rate-limited sender.
//
// It imports no other package of the project: handlers, storage and metrics
// plug in through the small interfaces declared here.
package bot

import (
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// User is the Telegram user behind an update.
type User struct {
	ID           int64
	FirstName    string
	LastName     string
	Username     string
	LanguageCode string
}

// DisplayName is the name to show for the user: first and last name, or the
// username when Telegram gave no name.
func (u User) DisplayName() string {
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if name == "" && u.Username != "" {
		return "@" + u.Username
	}
	if name == "" {
		return "?"
	}
	return name
}

// Chat is the chat an update happened in.
type Chat struct {
	ID    int64
	Type  string // private, group, supergroup or channel
	Title string
}

// IsPrivate reports whether the chat is a one-to-one chat with the bot.
func (c Chat) IsPrivate() bool { return c.Type == "private" }

// IsGroup reports whether the chat is a group or a supergroup.
func (c Chat) IsGroup() bool { return c.Type == "group" || c.Type == "supergroup" }

// Update kinds, as returned by Request.Kind and used for routing and metrics.
const (
	KindCommand  = "command"
	KindCallback = "callback"
	KindText     = "text"
	KindDocument = "document"
	KindMember   = "member"
	KindMigrate  = "migrate"
	KindOther    = "other"
)

// Request is one incoming update as a handler sees it. Its accessors report
// whether a field exists instead of handing out nil pointers.
type Request struct {
	// Update is the raw update; prefer the accessors.
	Update tgbotapi.Update
	// Command is the bot command without slash and @botname, lower-cased;
	// empty when the update is not a command.
	Command string
	// Args is the text after the command, trimmed.
	Args string
	// Route is the callback route (the part of callback data before the
	// first ':'); Data is the rest.
	Route, Data string
	// Lang is the language replies should use; set by the localization
	// middleware.
	Lang string
	// ForOtherBot is set when a group command was addressed to another bot
	// (/cmd@otherbot); such updates are ignored by the router.
	ForOtherBot bool

	// thread is the forum topic of the update (see Update.Thread).
	thread int

	answer   *CallbackAnswer
	answered bool
	// reply is the webhook answer's slot for one call, nil when the
	// update did not come through the Webhook.
	reply  *webhookReply
	values map[any]any
}

// CallbackAnswer is the text shown to a user who pressed a button.
type CallbackAnswer struct {
	Text  string
	Alert bool
}

// NewRequest parses an update: commands (with an optional @botname suffix,
// which must name this bot) and callback data.
func NewRequest(u tgbotapi.Update, botUsername string) *Request {
	stripBidiUpdate(&u)
	r := &Request{Update: u}
	if m := u.Message; m != nil {
		r.parseCommand(m, botUsername)
	}
	if cq := u.CallbackQuery; cq != nil {
		r.Route, r.Data, _ = strings.Cut(cq.Data, ":")
	}
	return r
}

// StripBidi removes the bidirectional embedding, override and isolate
// controls (U+202A–U+202E, U+2066–U+2069) from s. Typed into a title or a
// place, they would reverse the rest of every line that shows it —
// commands included — in lists and posts.
func StripBidi(s string) string {
	if !strings.ContainsFunc(s, isBidiControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// stripBidiUpdate cleans everything people type that reaches handlers:
// texts, captions, file names and the names of users.
func stripBidiUpdate(u *tgbotapi.Update) {
	user := func(p *tgbotapi.User) {
		if p != nil {
			p.FirstName, p.LastName = StripBidi(p.FirstName), StripBidi(p.LastName)
		}
	}
	if m := u.Message; m != nil {
		m.Text, m.Caption = StripBidi(m.Text), StripBidi(m.Caption)
		if m.Document != nil {
			m.Document.FileName = StripBidi(m.Document.FileName)
		}
		user(m.From)
	}
	if cq := u.CallbackQuery; cq != nil {
		user(cq.From)
	}
}

func (r *Request) parseCommand(m *tgbotapi.Message, botUsername string) {
	text := m.Text
	if !strings.HasPrefix(text, "/") {
		return
	}
	first, rest, _ := strings.Cut(text, " ")
	if i := strings.IndexAny(first, "\n\t"); i >= 0 {
		rest = first[i+1:] + " " + rest
		first = first[:i]
	}
	name := first[1:]
	if at := strings.IndexByte(name, '@'); at >= 0 {
		target := name[at+1:]
		name = name[:at]
		if botUsername != "" && !strings.EqualFold(target, botUsername) {
			r.ForOtherBot = true
		}
	}
	if name == "" {
		return
	}
	r.Command = strings.ToLower(name)
	r.Args = strings.TrimSpace(rest)
}

// UpdateID is Telegram's id of the update.
func (r *Request) UpdateID() int { return r.Update.UpdateID }

// Kind classifies the update for routing, logs and metrics.
func (r *Request) Kind() string {
	u := r.Update
	switch {
	case u.CallbackQuery != nil:
		return KindCallback
	case u.Message != nil && (u.Message.MigrateToChatID != 0 || u.Message.MigrateFromChatID != 0):
		return KindMigrate
	case u.Message != nil && r.Command != "":
		return KindCommand
	case u.Message != nil && u.Message.Document != nil:
		return KindDocument
	case u.Message != nil && u.Message.Text != "":
		return KindText
	case u.MyChatMember != nil || u.ChatMember != nil:
		return KindMember
	}
	return KindOther
}

// Sender is the user who caused the update.
func (r *Request) Sender() (User, bool) {
	var f *tgbotapi.User
	switch u := r.Update; {
	case u.Message != nil:
		f = u.Message.From
	case u.EditedMessage != nil:
		f = u.EditedMessage.From
	case u.CallbackQuery != nil:
		f = u.CallbackQuery.From
	case u.MyChatMember != nil:
		f = &u.MyChatMember.From
	case u.ChatMember != nil:
		f = &u.ChatMember.From
	}
	if f == nil {
		return User{}, false
	}
	return User{ID: f.ID, FirstName: f.FirstName, LastName: f.LastName, Username: f.UserName, LanguageCode: f.LanguageCode}, true
}

// Chat is the chat the update belongs to. For a button press it is the chat
// of the message that carried the button.
func (r *Request) Chat() (Chat, bool) {
	var c *tgbotapi.Chat
	switch u := r.Update; {
	case u.Message != nil:
		c = u.Message.Chat
	case u.EditedMessage != nil:
		c = u.EditedMessage.Chat
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil:
		c = u.CallbackQuery.Message.Chat
	case u.MyChatMember != nil:
		c = &u.MyChatMember.Chat
	case u.ChatMember != nil:
		c = &u.ChatMember.Chat
	}
	if c == nil {
		return Chat{}, false
	}
	title := c.Title
	if title == "" {
		title = strings.TrimSpace(c.FirstName + " " + c.LastName)
	}
	return Chat{ID: c.ID, Type: c.Type, Title: title}, true
}

// Message is the message of the update (not of a button press).
func (r *Request) Message() (*tgbotapi.Message, bool) {
	return r.Update.Message, r.Update.Message != nil
}

// Callback is the button press of the update.
func (r *Request) Callback() (*tgbotapi.CallbackQuery, bool) {
	return r.Update.CallbackQuery, r.Update.CallbackQuery != nil
}

// CallbackMessageID is the id of the message whose button was pressed.
func (r *Request) CallbackMessageID() (int, bool) {
	cq := r.Update.CallbackQuery
	if cq == nil || cq.Message == nil {
		return 0, false
	}
	return cq.Message.MessageID, true
}

// Thread is the forum topic the update came from, 0 outside topics: an
// answer goes to the same topic.
func (r *Request) Thread() int { return r.thread }

// Text is the plain text of a message update, "" otherwise.
func (r *Request) Text() string {
	if r.Update.Message == nil {
		return ""
	}
	return r.Update.Message.Text
}

// ChatKey is the key that orders updates: updates with the same key are
// handled one after another, in order.
func (r *Request) ChatKey() int64 { return ChatKey(r.Update) }

// ChatKey returns the chat id of an update, or the user id when the update
// has no chat (inline queries), so that per-chat ordering is kept.
func ChatKey(u tgbotapi.Update) int64 {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		return u.Message.Chat.ID
	case u.EditedMessage != nil && u.EditedMessage.Chat != nil:
		return u.EditedMessage.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil && u.CallbackQuery.Message.Chat != nil:
		return u.CallbackQuery.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.From != nil:
		return u.CallbackQuery.From.ID
	case u.MyChatMember != nil:
		return u.MyChatMember.Chat.ID
	case u.ChatMember != nil:
		return u.ChatMember.Chat.ID
	}
	return 0
}

// Answer sets the text shown to the user who pressed a button. The
// AutoRespond middleware sends it (or an empty answer) exactly once after the
// handler returns; the last call wins.
func (r *Request) Answer(text string, alert bool) {
	r.answer = &CallbackAnswer{Text: text, Alert: alert}
}

// PendingAnswer is the callback answer set by the handler, if any.
func (r *Request) PendingAnswer() (CallbackAnswer, bool) {
	if r.answer == nil {
		return CallbackAnswer{}, false
	}
	return *r.answer, true
}

// Set stores a value on the request for later middleware and handlers
// (the committee of the chat, the caller's role…).
func (r *Request) Set(key, value any) {
	if r.values == nil {
		r.values = make(map[any]any)
	}
	r.values[key] = value
}

// Value returns a value stored with Set.
func (r *Request) Value(key any) (any, bool) {
	v, ok := r.values[key]
	return v, ok
}
