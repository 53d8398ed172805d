package telegramtest

import (
	"encoding/json"
	"strconv"
	"strings"
)

// JSON shapes served to the bot, with the field names and omissions of
// the real server.

type wUser struct {
	ID                      int64  `json:"id"`
	IsBot                   bool   `json:"is_bot"`
	FirstName               string `json:"first_name"`
	LastName                string `json:"last_name,omitempty"`
	Username                string `json:"username,omitempty"`
	LanguageCode            string `json:"language_code,omitempty"`
	CanJoinGroups           *bool  `json:"can_join_groups,omitempty"`
	CanReadAllGroupMessages *bool  `json:"can_read_all_group_messages,omitempty"`
	SupportsInlineQueries   *bool  `json:"supports_inline_queries,omitempty"`
}

type wChat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	IsForum   bool   `json:"is_forum,omitempty"`
}

type wEntity struct {
	Type          string `json:"type"`
	Offset        int    `json:"offset"`
	Length        int    `json:"length"`
	URL           string `json:"url,omitempty"`
	User          *wUser `json:"user,omitempty"`
	Language      string `json:"language,omitempty"`
	CustomEmojiID string `json:"custom_emoji_id,omitempty"`
}

type wDocument struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

type wPhotoSize struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FileSize     int    `json:"file_size,omitempty"`
}

type wMessage struct {
	MessageID       int             `json:"message_id"`
	MessageThreadID int             `json:"message_thread_id,omitempty"`
	IsTopicMessage  bool            `json:"is_topic_message,omitempty"`
	From            *wUser          `json:"from,omitempty"`
	Chat            wChat           `json:"chat"`
	Date            int64           `json:"date"`
	EditDate        int64           `json:"edit_date,omitempty"`
	ReplyToMessage  *wMessage       `json:"reply_to_message,omitempty"`
	Text            string          `json:"text,omitempty"`
	Entities        []wEntity       `json:"entities,omitempty"`
	Document        *wDocument      `json:"document,omitempty"`
	Photo           []wPhotoSize    `json:"photo,omitempty"`
	Caption         string          `json:"caption,omitempty"`
	CaptionEntities []wEntity       `json:"caption_entities,omitempty"`
	ReplyMarkup     json.RawMessage `json:"reply_markup,omitempty"`
}

type wCallbackQuery struct {
	ID           string    `json:"id"`
	From         wUser     `json:"from"`
	Message      *wMessage `json:"message,omitempty"`
	ChatInstance string    `json:"chat_instance"`
	Data         string    `json:"data,omitempty"`
}

type wChatMember struct {
	Status      string `json:"status"`
	User        wUser  `json:"user"`
	IsAnonymous *bool  `json:"is_anonymous,omitempty"`
	// Administrator rights, all granted to administrators and creators.
	CanBeEdited         *bool `json:"can_be_edited,omitempty"`
	CanManageChat       *bool `json:"can_manage_chat,omitempty"`
	CanDeleteMessages   *bool `json:"can_delete_messages,omitempty"`
	CanRestrictMembers  *bool `json:"can_restrict_members,omitempty"`
	CanPromoteMembers   *bool `json:"can_promote_members,omitempty"`
	CanChangeInfo       *bool `json:"can_change_info,omitempty"`
	CanInviteUsers      *bool `json:"can_invite_users,omitempty"`
	CanPinMessages      *bool `json:"can_pin_messages,omitempty"`
	CanManageVideoChats *bool `json:"can_manage_video_chats,omitempty"`
	UntilDate           *int  `json:"until_date,omitempty"`
}

type wFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int    `json:"file_size,omitempty"`
	FilePath     string `json:"file_path,omitempty"`
}

type wBotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

func ptr[T any](v T) *T { return &v }

func wireUser(u User) wUser {
	return wUser{ID: u.ID, IsBot: u.IsBot, FirstName: u.FirstName, LastName: u.LastName,
		Username: u.Username, LanguageCode: u.LanguageCode}
}

// wireChatLocked renders a chat as the Bot API serves it; a private chat
// carries its user's names.
func (st *state) wireChatLocked(ch *chatState) wChat {
	c := wChat{ID: ch.chat.ID, Type: ch.chat.Type}
	if ch.chat.Type == ChatPrivate {
		if us, ok := st.users[ch.chat.ID]; ok {
			c.FirstName, c.LastName, c.Username = us.user.FirstName, us.user.LastName, us.user.Username
		}
		return c
	}
	c.Title, c.Username, c.IsForum = ch.chat.Title, ch.chat.Username, ch.chat.IsForum
	return c
}

// wireEntitiesLocked renders entities as the Bot API serves them: a
// text_mention carries the user it mentions, or stays the text_link it was
// sent as when the server does not know the user.
func (st *state) wireEntitiesLocked(ents []Entity) []wEntity {
	if len(ents) == 0 {
		return nil
	}
	out := make([]wEntity, 0, len(ents))
	for _, e := range ents {
		we := wEntity{Type: e.Type, Offset: e.Offset, Length: e.Length, URL: e.URL,
			Language: e.Language, CustomEmojiID: e.CustomEmojiID}
		if e.Type == "text_mention" {
			we.URL = ""
			id, _ := strconv.ParseInt(strings.TrimPrefix(e.URL, "tg://user?id="), 10, 64)
			if us, ok := st.users[id]; ok {
				we.User = ptr(wireUser(us.user))
			} else {
				we.Type, we.URL = "text_link", e.URL
			}
		}
		out = append(out, we)
	}
	return out
}

// wireMessageLocked renders a stored message as the Bot API serves it.
func (st *state) wireMessageLocked(ch *chatState, m *Message, withReply bool) *wMessage {
	w := &wMessage{
		MessageID: m.MessageID,
		From:      ptr(wireUser(m.From)),
		Chat:      st.wireChatLocked(ch),
		Date:      m.Date.Unix(),
	}
	if m.Thread != 0 {
		w.MessageThreadID, w.IsTopicMessage = m.Thread, true
	}
	if !m.EditDate.IsZero() {
		w.EditDate = m.EditDate.Unix()
	}
	if m.Document != nil {
		w.Document = &wDocument{FileID: m.Document.FileID, FileUniqueID: m.Document.FileUniqueID,
			FileName: m.Document.FileName, MimeType: m.Document.MimeType, FileSize: len(m.Document.Data)}
		w.Caption = m.Document.Caption
		w.CaptionEntities = st.wireEntitiesLocked(m.Entities)
	} else if m.Photo != nil {
		for i, p := range m.Photo.Sizes {
			ws := wPhotoSize{FileID: p.FileID, FileUniqueID: p.FileUniqueID, Width: p.Width, Height: p.Height}
			if i == len(m.Photo.Sizes)-1 {
				// Only the photo itself has a known size: the stand-in
				// does not make the smaller ones.
				ws.FileSize = len(m.Photo.Data)
			}
			w.Photo = append(w.Photo, ws)
		}
		w.Caption = m.Photo.Caption
		w.CaptionEntities = st.wireEntitiesLocked(m.Entities)
	} else {
		w.Text = m.Text
		w.Entities = st.wireEntitiesLocked(m.Entities)
	}
	if raw, ok := ch.rawMarkup[m.MessageID]; ok {
		w.ReplyMarkup = raw
	}
	if withReply && m.ReplyToMessageID != 0 {
		if r, ok := ch.byID[m.ReplyToMessageID]; ok && !r.Deleted {
			w.ReplyToMessage = st.wireMessageLocked(ch, r, false)
		}
	}
	return w
}

// wireMember renders a chat member as the Bot API serves it: administrators
// and creators with every right.
func wireMember(status string, u User) wChatMember {
	m := wChatMember{Status: status, User: wireUser(u)}
	switch status {
	case StatusCreator:
		m.IsAnonymous = ptr(false)
	case StatusAdministrator:
		t := ptr(true)
		m.IsAnonymous = ptr(false)
		m.CanBeEdited = ptr(false)
		m.CanManageChat, m.CanDeleteMessages, m.CanRestrictMembers = t, t, t
		m.CanPromoteMembers, m.CanChangeInfo, m.CanInviteUsers = t, t, t
		m.CanPinMessages, m.CanManageVideoChats = t, t
	case StatusKicked, StatusRestricted:
		m.UntilDate = ptr(0)
	}
	return m
}

// markupKeyboard extracts the inline keyboard of a reply_markup value.
func markupKeyboard(v map[string]any) [][]Button {
	rows, _ := v["inline_keyboard"].([]any)
	out := make([][]Button, 0, len(rows))
	for _, r := range rows {
		cells, _ := r.([]any)
		row := make([]Button, 0, len(cells))
		for _, c := range cells {
			b, _ := c.(map[string]any)
			text, _ := b["text"].(string)
			data, _ := b["callback_data"].(string)
			url, _ := b["url"].(string)
			row = append(row, Button{Text: text, CallbackData: data, URL: url})
		}
		out = append(out, row)
	}
	return out
}

// replyKeyboard extracts the button texts of a ReplyKeyboardMarkup.
func replyKeyboard(v map[string]any) [][]string {
	rows, _ := v["keyboard"].([]any)
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		cells, _ := r.([]any)
		row := make([]string, 0, len(cells))
		for _, c := range cells {
			switch b := c.(type) {
			case string:
				row = append(row, b)
			case map[string]any:
				text, _ := b["text"].(string)
				row = append(row, text)
			}
		}
		out = append(out, row)
	}
	return out
}
