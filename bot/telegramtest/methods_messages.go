package telegramtest

import (
	"bytes"
	"encoding/json"
	"net/url"
	"path"
	"strings"
)

func init() {
	handlers["sendMessage"] = handleSendMessage
	handlers["editMessageText"] = editMethod(messageTextEdit)
	handlers["editMessageCaption"] = editMethod(captionEdit)
	handlers["editMessageReplyMarkup"] = handleEditMessageReplyMarkup
	handlers["deleteMessage"] = chatMethod(true, handleDeleteMessageLocked)
	handlers["answerCallbackQuery"] = handleAnswerCallbackQuery
	handlers["sendDocument"] = handleSendDocument
	handlers["getFile"] = handleGetFile
	handlers["sendChatAction"] = handleSendChatAction
}

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

// markup is a parsed reply_markup parameter.
type markup struct {
	inline   [][]Button
	raw      json.RawMessage // normalized inline keyboard JSON, nil without buttons
	keyboard [][]string
	remove   bool
}

// parseMarkup reads reply_markup. The validator already checked its shape.
func parseMarkup(c *call) (markup, error) {
	var mk markup
	if !c.has("reply_markup") {
		return mk, nil
	}
	v, err := decodeJSON(c.str("reply_markup"))
	if err != nil {
		return mk, badRequest("can't parse reply keyboard markup JSON object")
	}
	obj, _ := v.(map[string]any)
	switch {
	case obj["inline_keyboard"] != nil:
		kb := markupKeyboard(obj)
		n := 0
		for _, row := range kb {
			n += len(row)
		}
		if n > 0 {
			mk.inline = kb
			// Marshalling the decoded value sorts keys: a stable form to
			// serve back and to compare for "not modified".
			mk.raw, _ = json.Marshal(map[string]any{"inline_keyboard": obj["inline_keyboard"]})
		}
	case obj["keyboard"] != nil:
		mk.keyboard = replyKeyboard(obj)
	case obj["remove_keyboard"] != nil:
		mk.remove = true
	}
	return mk, nil
}

// applyMarkupLocked attaches a parsed markup to a message.
func applyMarkupLocked(ch *chatState, m *Message, mk markup) {
	m.ReplyMarkup = mk.inline
	m.ReplyKeyboard = mk.keyboard
	m.RemoveKeyboard = mk.remove
	if mk.raw != nil {
		ch.rawMarkup[m.MessageID] = mk.raw
	} else {
		delete(ch.rawMarkup, m.MessageID)
	}
}

// explicitEntities reads an entities parameter sent instead of parse_mode.
func explicitEntities(c *call, name string) []Entity {
	var ws []wEntity
	if err := c.decode(name, &ws); err != nil {
		return nil
	}
	var out []Entity
	for _, w := range ws {
		out = append(out, Entity{Type: w.Type, Offset: w.Offset, Length: w.Length, URL: w.URL,
			Language: w.Language, CustomEmojiID: w.CustomEmojiID})
	}
	return out
}

// messageText returns the parsed text parameter with its entities.
func messageText(c *call, name, entitiesParam string) (formatted, error) {
	f, err := c.text(name)
	if err != nil {
		return f, err
	}
	if f.mode == "" {
		f.entities = explicitEntities(c, entitiesParam)
	}
	return f, nil
}

// replyTargetLocked resolves reply_to_message_id (tgbotapi) or
// reply_parameters (current API).
func replyTargetLocked(c *call, ch *chatState) (int, error) {
	id := 0
	allow := c.bool("allow_sending_without_reply")
	if c.has("reply_to_message_id") {
		id = c.int("reply_to_message_id")
	}
	if c.has("reply_parameters") {
		var rp struct {
			MessageID                int  `json:"message_id"`
			AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
		}
		if err := c.decode("reply_parameters", &rp); err != nil {
			return 0, err
		}
		id, allow = rp.MessageID, allow || rp.AllowSendingWithoutReply
	}
	if id == 0 {
		return 0, nil
	}
	if m, ok := ch.byID[id]; !ok || m.Deleted {
		if allow {
			return 0, nil
		}
		return 0, stateError("message to be replied not found")
	}
	return id, nil
}

func handleSendMessage(s *Server, c *call) (reply, error) {
	return s.send(c, "text", "entities", EventSend, func(f formatted) (*Message, error) {
		return &Message{Text: f.text}, nil
	})
}

// textAndMarkup parses what a method that posts or edits a message gives
// it: the text (or caption) with its entities or parse mode, and the
// keyboard (markupOf: parseMarkup, or parseEditMarkup for an edit).
func textAndMarkup(c *call, textParam, entitiesParam string, markupOf func(*call) (markup, error)) (formatted, markup, error) {
	f, err := messageText(c, textParam, entitiesParam)
	if err != nil {
		return formatted{}, markup{}, err
	}
	mk, err := markupOf(c)
	if err != nil {
		return formatted{}, markup{}, err
	}
	return f, mk, nil
}

// setFormat gives m the entities and parse mode of f, and f's source when
// it was parsed from HTML or Markdown.
func (m *Message) setFormat(f formatted) {
	m.Entities, m.ParseMode, m.HTML = f.entities, f.mode, ""
	if f.mode != "" {
		m.HTML = f.raw
	}
}

// send is the path every method that posts a message shares: parse the
// text (or caption) and the keyboard, find the chat and the message
// replied to, let body build the message under the lock, store it and
// tell subscribers.
func (s *Server) send(c *call, textParam, entitiesParam, kind string, body func(f formatted) (*Message, error)) (reply, error) {
	f, mk, err := textAndMarkup(c, textParam, entitiesParam, parseMarkup)
	if err != nil {
		return reply{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.st.writableChatLocked(c.str("chat_id"))
	if err != nil {
		return reply{}, err
	}
	replyTo, err := replyTargetLocked(c, ch)
	if err != nil {
		return reply{}, err
	}
	thread, err := threadLocked(c, ch)
	if err != nil {
		return reply{}, err
	}
	if r, ok := ch.byID[replyTo]; ok && thread == 0 {
		// A reply goes to the topic of the message it answers.
		thread = r.Thread
	}
	m, err := body(f)
	if err != nil {
		return reply{}, err
	}
	m.From, m.ReplyToMessageID, m.Thread = s.bot, replyTo, thread
	m.setFormat(f)
	s.st.addMessageLocked(ch, m)
	applyMarkupLocked(ch, m, mk)
	s.emitLocked(Event{Kind: kind, ChatID: m.ChatID, MessageID: m.MessageID, Message: m.clone()})
	s.bumpLocked()
	return reply{result: s.st.wireMessageLocked(ch, m, true)}, nil
}

// editTargetLocked finds the message an edit method names.
func (st *state) editTargetLocked(c *call) (*chatState, *Message, error) {
	if c.has("inline_message_id") {
		return nil, nil, badRequest("inline messages are not supported by the stand-in")
	}
	if !c.has("chat_id") {
		return nil, nil, badRequest("chat_id is empty")
	}
	if !c.has("message_id") {
		return nil, nil, badRequest("message identifier is not specified")
	}
	ch, err := st.writableChatLocked(c.str("chat_id"))
	if err != nil {
		return nil, nil, err
	}
	m, ok := ch.byID[c.int("message_id")]
	if !ok || m.Deleted {
		return nil, nil, stateError("message to edit not found")
	}
	if m.From.ID != st.bot.ID {
		return nil, nil, stateError("message can't be edited")
	}
	return ch, m, nil
}

func (s *Server) finishEditLocked(ch *chatState, m *Message, textChanged bool) reply {
	m.Edits++
	if textChanged {
		m.EditDate = s.st.stamp()
	}
	s.emitLocked(Event{Kind: EventEdit, ChatID: m.ChatID, MessageID: m.MessageID, Message: m.clone()})
	s.bumpLocked()
	return reply{result: s.st.wireMessageLocked(ch, m, true)}
}

// parseEditMarkup is an edit's reply_markup: only an inline keyboard can
// be attached to an edited message (or none, which removes it).
func parseEditMarkup(c *call) (markup, error) {
	mk, err := parseMarkup(c)
	if err != nil {
		return markup{}, err
	}
	if mk.keyboard != nil || mk.remove {
		return markup{}, badRequest("only inline keyboards can be attached to edited messages")
	}
	return mk, nil
}

// textEdit is what editMessageText and editMessageCaption differ in: the
// parameters holding the new text, whether it may be empty, the refusal
// for a message without that kind of text, and how the message's text is
// read and replaced.
type textEdit struct {
	param, entities string
	required        bool
	none            string
	get             func(m *Message) (string, bool)
	set             func(m *Message, text string)
}

var (
	messageTextEdit = textEdit{
		param: "text", entities: "entities", required: true,
		none: "there is no text in the message to edit",
		get:  func(m *Message) (string, bool) { return m.Text, m.Document == nil && m.Photo == nil },
		set:  func(m *Message, text string) { m.Text = text },
	}
	captionEdit = textEdit{
		param: "caption", entities: "caption_entities",
		none: "there is no caption in the message to edit",
		get:  func(m *Message) (string, bool) { return m.caption() },
		set: func(m *Message, text string) {
			// Copies: a Message handed out earlier shares the pointers.
			if m.Document != nil {
				doc := *m.Document
				doc.Caption = text
				m.Document = &doc
			} else {
				p := *m.Photo
				p.Caption = text
				m.Photo = &p
			}
		},
	}
)

// editMethod is editMessageText or editMessageCaption.
func editMethod(e textEdit) handlerFunc {
	return func(s *Server, c *call) (reply, error) {
		if e.required && !c.has(e.param) {
			return reply{}, badRequest("message text is empty")
		}
		f, mk, err := textAndMarkup(c, e.param, e.entities, parseEditMarkup)
		if err != nil {
			return reply{}, err
		}
		return editLocked(s, c, func(ch *chatState, m *Message) (reply, error) {
			current, ok := e.get(m)
			if !ok {
				return reply{}, stateError("%s", e.none)
			}
			// Like the real server, an edit without reply_markup removes
			// the inline keyboard: it is part of what is compared.
			if current == f.text && entitiesEqual(m.Entities, f.entities) && bytes.Equal(ch.rawMarkup[m.MessageID], mk.raw) {
				return reply{}, stateError(notModified)
			}
			e.set(m, f.text)
			m.setFormat(f)
			applyMarkupLocked(ch, m, mk)
			return s.finishEditLocked(ch, m, true), nil
		})
	}
}

func handleEditMessageReplyMarkup(s *Server, c *call) (reply, error) {
	mk, err := parseEditMarkup(c)
	if err != nil {
		return reply{}, err
	}
	return editLocked(s, c, func(ch *chatState, m *Message) (reply, error) {
		if bytes.Equal(ch.rawMarkup[m.MessageID], mk.raw) {
			return reply{}, stateError(notModified)
		}
		applyMarkupLocked(ch, m, mk)
		return s.finishEditLocked(ch, m, false), nil
	})
}

// editLocked runs edit with the server locked and the message the call
// names (chat_id and message_id), once found.
func editLocked(s *Server, c *call, edit func(ch *chatState, m *Message) (reply, error)) (reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, m, err := s.st.editTargetLocked(c)
	if err != nil {
		return reply{}, err
	}
	return edit(ch, m)
}

func entitiesEqual(a, b []Entity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func handleDeleteMessageLocked(s *Server, c *call, ch *chatState) (reply, error) {
	m, ok := ch.byID[c.int("message_id")]
	if !ok || m.Deleted {
		return reply{}, stateError("message to delete not found")
	}
	if m.From.ID != s.bot.ID && ch.chat.Type != ChatPrivate {
		if st := ch.members[s.bot.ID]; st != StatusAdministrator && st != StatusCreator {
			return reply{}, stateError("message can't be deleted")
		}
	}
	m.Deleted = true
	s.emitLocked(Event{Kind: EventDelete, ChatID: m.ChatID, MessageID: m.MessageID, Message: m.clone()})
	s.bumpLocked()
	return reply{result: true}, nil
}

func handleAnswerCallbackQuery(s *Server, c *call) (reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.st.queries[c.str("callback_query_id")]
	tooOld := ok && s.callbackTimeout > 0 && s.now().Sub(q.created) > s.callbackTimeout
	if !ok || q.answer.Answered || tooOld {
		return reply{}, stateError("query is too old and response timeout expired or query ID is invalid")
	}
	q.answer.Answered = true
	q.answer.Text = c.str("text")
	q.answer.ShowAlert = c.bool("show_alert")
	q.answer.URL = c.str("url")
	q.answer.CacheTime = c.int("cache_time")
	ans := q.answer
	s.emitLocked(Event{Kind: EventAnswer, ChatID: ans.ChatID, MessageID: ans.MessageID, Callback: &ans})
	s.bumpLocked()
	return reply{result: true}, nil
}

func handleSendDocument(s *Server, c *call) (reply, error) {
	return s.send(c, "caption", "caption_entities", EventDocument, func(f formatted) (*Message, error) {
		stored, err := s.st.documentParamLocked(c, "document")
		if err != nil {
			return nil, err
		}
		doc := *stored
		doc.Caption = f.text
		return &Message{Document: &doc}, nil
	})
}

// documentParamLocked resolves an InputFile parameter: an upload, an
// attach:// reference, a known file_id or an HTTP URL.
func (st *state) documentParamLocked(c *call, name string) (*Document, error) {
	if up, ok := c.files[name]; ok {
		return st.newFileLocked(up.FileName, detectMime(up.FileName, up.ContentType, up.Data), up.Data), nil
	}
	raw := strings.TrimSpace(c.str(name))
	if ref, ok := strings.CutPrefix(raw, "attach://"); ok {
		up := c.files[ref]
		return st.newFileLocked(up.FileName, detectMime(up.FileName, up.ContentType, up.Data), up.Data), nil
	}
	if d, ok := st.files[raw]; ok {
		return d, nil
	}
	if u, err := url.Parse(raw); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		name := path.Base(u.Path)
		if name == "." || name == "/" {
			name = "file"
		}
		return st.newFileLocked(name, detectMime(name, "", nil), nil), nil
	}
	return nil, stateError("wrong file identifier/HTTP URL specified")
}

func handleGetFile(s *Server, c *call) (reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := c.str("file_id")
	if p, ok := s.st.photos[id]; ok {
		unique := ""
		for _, size := range p.Sizes {
			if size.FileID == id {
				unique = size.FileUniqueID
			}
		}
		f := s.st.photoFiles[id]
		return reply{result: wFile{FileID: id, FileUniqueID: unique, FileSize: len(f.Data), FilePath: s.st.filePathLocked(f)}}, nil
	}
	d, ok := s.st.files[id]
	if !ok {
		return reply{}, stateError("invalid file_id")
	}
	return reply{result: wFile{FileID: d.FileID, FileUniqueID: d.FileUniqueID, FileSize: len(d.Data),
		FilePath: s.st.filePathLocked(d)}}, nil
}

// chatActions are the actions sendChatAction accepts.
var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "upload_document": true, "choose_sticker": true,
	"find_location": true, "record_video_note": true, "upload_video_note": true,
}

func handleSendChatAction(s *Server, c *call) (reply, error) {
	if !chatActions[c.str("action")] {
		return reply{}, badRequest("wrong parameter action in request")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.st.writableChatLocked(c.str("chat_id")); err != nil {
		return reply{}, err
	}
	return reply{result: true}, nil
}
