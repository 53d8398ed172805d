package telegramtest

import (
	"bytes"
	"time"
)

// User is a Telegram user (or the bot itself) known to the stand-in.
type User struct {
	ID           int64
	FirstName    string
	LastName     string
	Username     string
	LanguageCode string
	IsBot        bool
}

// Chat types.
const (
	ChatPrivate    = "private"
	ChatGroup      = "group"
	ChatSupergroup = "supergroup"
)

// Chat is a group or supergroup added with AddGroup. Private chats are
// created by StartPrivate and share the user's id.
type Chat struct {
	ID    int64
	Type  string // ChatPrivate, ChatGroup or ChatSupergroup
	Title string
	// Username is the public @username of a supergroup, optional.
	Username string
	// IsForum marks a supergroup with topics (see AddTopic).
	IsForum bool
}

// Member statuses, as getChatMember reports them.
const (
	StatusCreator       = "creator"
	StatusAdministrator = "administrator"
	StatusMember        = "member"
	StatusRestricted    = "restricted"
	StatusLeft          = "left"
	StatusKicked        = "kicked"
)

// Member is a user's membership of a group.
type Member struct {
	UserID int64
	Status string // StatusCreator, StatusAdministrator, StatusMember, ...
}

// Button is one inline keyboard button as the bot sent it.
type Button struct {
	Text         string
	CallbackData string
	URL          string
}

// Document is a file attached to a message.
type Document struct {
	FileID       string
	FileUniqueID string
	FileName     string
	MimeType     string
	Data         []byte
	// Caption is the caption after entity parsing.
	Caption string
}

// Photo is a picture sent with sendPhoto: the bytes the bot uploaded, its
// format ("png", "jpeg"…) and size in pixels, and the sizes Telegram
// lists for it (smallest first; the last is the photo itself, at most
// 2560 pixels long).
type Photo struct {
	FileID       string // of the largest size
	FileUniqueID string
	Format       string
	Width        int
	Height       int
	Data         []byte
	Sizes        []PhotoSize
	// Caption is the caption after entity parsing.
	Caption string
}

// PhotoSize is one size of a photo.
type PhotoSize struct {
	FileID       string
	FileUniqueID string
	Width        int
	Height       int
}

// Entity is a formatting or command entity of a text, with offset and
// length in UTF-16 code units as Telegram counts them.
type Entity struct {
	Type          string
	Offset        int
	Length        int
	URL           string
	Language      string
	CustomEmojiID string
}

// Message is a message stored by the stand-in, sent by the bot or by a
// user.
type Message struct {
	MessageID int
	ChatID    int64
	From      User
	// Text is the message text after entity parsing: what a user would
	// read. Empty for documents and photos (see their Caption).
	Text string
	// HTML is the text or caption exactly as the bot sent it, when it was
	// sent with a parse_mode; ParseMode names that mode.
	HTML      string
	ParseMode string
	Entities  []Entity
	// ReplyMarkup is the inline keyboard attached to the message.
	ReplyMarkup [][]Button
	// ReplyKeyboard holds the button texts of a custom reply keyboard
	// (ReplyKeyboardMarkup); RemoveKeyboard is set by ReplyKeyboardRemove.
	ReplyKeyboard    [][]string
	RemoveKeyboard   bool
	ReplyToMessageID int
	// Thread is the forum topic the message is in (its
	// message_thread_id), 0 for General and chats without topics.
	Thread   int
	Document *Document
	Photo    *Photo
	// UpdateID is the update_id of the "message" update that carried a
	// user's message to the bot (zero for the bot's own messages).
	UpdateID int
	Date     time.Time
	// EditDate is the time of the last edit; Edits counts them.
	EditDate time.Time
	Edits    int
	Deleted  bool
}

// Buttons returns every inline button of the message, row by row.
func (m Message) Buttons() []Button {
	var out []Button
	for _, row := range m.ReplyMarkup {
		out = append(out, row...)
	}
	return out
}

// caption is the caption of a document or photo; ok is false for
// messages that cannot have one.
func (m Message) caption() (string, bool) {
	switch {
	case m.Document != nil:
		return m.Document.Caption, true
	case m.Photo != nil:
		return m.Photo.Caption, true
	}
	return "", false
}

// clone returns a deep copy so that callers cannot race with the server.
func (m Message) clone() Message {
	out := m
	out.Entities = append([]Entity(nil), m.Entities...)
	if m.ReplyMarkup != nil {
		out.ReplyMarkup = make([][]Button, len(m.ReplyMarkup))
		for i, row := range m.ReplyMarkup {
			out.ReplyMarkup[i] = append([]Button(nil), row...)
		}
	}
	if m.ReplyKeyboard != nil {
		out.ReplyKeyboard = make([][]string, len(m.ReplyKeyboard))
		for i, row := range m.ReplyKeyboard {
			out.ReplyKeyboard[i] = append([]string(nil), row...)
		}
	}
	if m.Document != nil {
		d := *m.Document
		d.Data = bytes.Clone(m.Document.Data)
		out.Document = &d
	}
	if m.Photo != nil {
		p := *m.Photo
		p.Data = bytes.Clone(m.Photo.Data)
		p.Sizes = append([]PhotoSize(nil), m.Photo.Sizes...)
		out.Photo = &p
	}
	return out
}

// CallbackAnswer is a callback query created by PressButton and, once the
// bot called answerCallbackQuery, its answer.
type CallbackAnswer struct {
	QueryID   string
	ChatID    int64
	MessageID int
	FromID    int64
	Data      string
	// Answered is set by answerCallbackQuery; the fields below hold what
	// the bot answered.
	Answered  bool
	Text      string
	ShowAlert bool
	URL       string
	CacheTime int
}

// BotCommand is one entry of the bot's command menu.
type BotCommand struct {
	Command     string
	Description string
}

// Event kinds.
const (
	EventSend     = "send"     // the bot sent a text message
	EventDocument = "document" // the bot sent a document
	EventPhoto    = "photo"    // the bot sent a photo
	EventEdit     = "edit"     // the bot edited a message (text, caption or markup)
	EventDelete   = "delete"   // the bot deleted a message
	EventAnswer   = "answer"   // the bot answered a callback query
	EventCommands = "commands" // the bot set or deleted its command list
	EventUser     = "user"     // a user message was injected (SendText, SendDocumentFrom)
)

// Event reports a change the bot made (or a user message the driver
// injected), in the order the stand-in applied them.
type Event struct {
	// Seq numbers the events of a Server from 1, in order: a reader that
	// has seen Server.LastEventSeq has seen every event so far.
	Seq       uint64
	Kind      string
	ChatID    int64
	MessageID int
	// Message is the message after the change (for EventDelete, with
	// Deleted set).
	Message Message
	// Callback is set for EventAnswer.
	Callback *CallbackAnswer
	// Commands, Scope and LanguageCode are set for EventCommands; Scope
	// uses the key format of Server.Commands.
	Commands     []BotCommand
	Scope        string
	LanguageCode string
}

// Request is one Bot API call the stand-in received.
type Request struct {
	Method string
	// Params holds the parameters as strings, the way they were sent.
	Params map[string]string
	// Files maps multipart file fields to their file names.
	Files       map[string]string
	Status      int
	Description string
	// Rejected is set when the request broke the Bot API contract
	// (unknown method, missing or malformed parameter, limit, markup),
	// as opposed to errors that depend on state (blocked user, message
	// not modified, rate limit, injected fault).
	Rejected bool
	Time     time.Time
}
