package telegramtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

func init() {
	handlers["getUpdates"] = handleGetUpdates
}

// pendingUpdate is an update waiting for confirmation (polling) or
// delivery (webhook).
type pendingUpdate struct {
	id   int
	kind string // "message", "callback_query", ...
	raw  json.RawMessage
	// redeliver marks a repeated update: the bot's offset, already past
	// it, does not drop it until it has been returned once.
	redeliver bool
}

// pollState is the getUpdates request in flight; a newer one closes
// conflict to terminate it.
type pollState struct {
	conflict chan struct{}
}

// defaultExcluded are the update kinds delivered only when asked for in
// allowed_updates.
var defaultExcluded = map[string]bool{"chat_member": true, "message_reaction": true, "message_reaction_count": true}

// allowedLocked reports whether updates of kind are delivered: those in
// the last allowed_updates, or every kind but defaultExcluded before any.
func (st *state) allowedLocked(kind string) bool {
	if len(st.allowed) == 0 {
		return !defaultExcluded[kind]
	}
	return st.allowed[kind]
}

// setAllowedLocked records the allowed_updates of getUpdates or
// setWebhook.
func (st *state) setAllowedLocked(kinds []string) {
	st.allowed = map[string]bool{}
	for _, k := range kinds {
		st.allowed[k] = true
	}
}

// enqueueLocked queues an update with the next update_id, and returns the
// id and the update's JSON as issueLocked does.
func (st *state) enqueueLocked(kind string, payload any) (int, []byte) {
	id, raw := st.issueLocked(kind, payload)
	st.updates = append(st.updates, st.history[id])
	return id, raw
}

// EnqueueUpdate injects a raw update: a json.RawMessage, []byte, string or
// any value that encodes to a JSON object such as a map. Without an
// "update_id" the next one is assigned; with one it is kept, so a test can
// replay an update the bot already saw: an id below the next one is
// delivered once more even though the bot's offset has passed it (see
// Redeliver). Updates of kinds the bot did not allow are dropped, as the
// real server never queues them. It returns the update_id and panics if u
// is not a JSON object.
func (s *Server) EnqueueUpdate(u any) int {
	var raw []byte
	switch v := u.(type) {
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	case string:
		raw = []byte(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("telegramtest: EnqueueUpdate: %v", err))
		}
		raw = b
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		panic(fmt.Sprintf("telegramtest: EnqueueUpdate needs a JSON object: %v", err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.st.nextUpdateID
	if v, ok := obj["update_id"]; ok {
		n, err := strconv.Atoi(string(v))
		if err != nil {
			panic(fmt.Sprintf("telegramtest: EnqueueUpdate: bad update_id %s", v))
		}
		id = n
	}
	obj["update_id"] = json.RawMessage(strconv.Itoa(id))
	replay := id < s.st.nextUpdateID
	if !replay {
		s.st.nextUpdateID = id + 1
	}
	kinds := make([]string, 0, len(obj))
	for k := range obj {
		if k != "update_id" {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	kind := ""
	if len(kinds) > 0 {
		kind = kinds[0]
	}
	body, _ := json.Marshal(obj)
	up := pendingUpdate{id: id, kind: kind, raw: body, redeliver: replay}
	s.st.updates = append(s.st.updates, up)
	if _, seen := s.st.history[id]; !seen {
		s.st.history[id] = up
	}
	s.bumpLocked()
	return id
}

// Redeliver queues an update the server already sent once, unchanged, as
// Telegram does when it did not see the bot's confirmation (a crash before
// the next getUpdates, a webhook answer lost). The bot's offset does not
// drop it until it has been returned once. It reports false for an
// update_id the server never issued.
func (s *Server) Redeliver(updateID int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.st.history[updateID]
	if !ok {
		return false
	}
	u.redeliver = true
	s.st.updates = append(s.st.updates, u)
	s.bumpLocked()
	return true
}

// PendingUpdates is the number of updates not yet confirmed by getUpdates
// or delivered to the webhook.
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.updates)
}

// userChatLocked returns the chat a user writes in: their private chat
// (started implicitly, as writing to a bot does) or a group they join
// implicitly if they were not a member.
func (st *state) userChatLocked(chatID int64, us *userState) *chatState {
	if chatID == us.user.ID {
		return st.startPrivateLocked(us)
	}
	ch := st.mustGroupLocked(chatID)
	if status, ok := ch.members[us.user.ID]; !ok || status == StatusLeft {
		ch.members[us.user.ID] = StatusMember
	}
	return ch
}

// SendText injects a text message from a user into a chat and queues the
// "message" update. Commands ("/start", "/vote@bot 3") get bot_command
// entities as Telegram computes them. A message in the user's private chat
// (chatID == fromUserID) starts that chat. It panics on unknown users or
// groups.
func (s *Server) SendText(chatID, fromUserID int64, text string) Message {
	return s.SendTextInTopic(chatID, fromUserID, 0, text)
}

// SendTextInTopic is SendText in forum topic thread of a group (see
// AddTopic); 0 is the General topic.
func (s *Server) SendTextInTopic(chatID, fromUserID int64, thread int, text string) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	if thread != 0 {
		ch := s.st.mustGroupLocked(chatID)
		if _, ok := ch.topics[thread]; !ok {
			panic(fmt.Sprintf("telegramtest: SendTextInTopic: chat %d has no topic %d", chatID, thread))
		}
	}
	m, _ := s.sendTextLocked(chatID, fromUserID, text, thread, s.st.enqueueLocked)
	return m
}

// sendTextLocked stores a user's text message and hands its "message"
// update to deliver (st.enqueueLocked to queue it, or st.issueLocked to
// only issue it: see direct.go).
func (s *Server) sendTextLocked(chatID, fromUserID int64, text string, thread int, deliver func(kind string, payload any) (int, []byte)) (Message, []byte) {
	us := s.st.mustUserLocked(fromUserID)
	ch := s.st.userChatLocked(chatID, us)
	m := &Message{From: us.user, Text: text, Entities: commandEntities(text), Thread: thread}
	s.st.addMessageLocked(ch, m)
	id, raw := deliver("message", s.st.wireMessageLocked(ch, m, true))
	m.UpdateID = id
	s.emitLocked(Event{Kind: EventUser, ChatID: m.ChatID, MessageID: m.MessageID, Message: m.clone()})
	s.bumpLocked()
	return m.clone(), raw
}

// SendDocumentFrom injects a document sent by a user, with an optional
// caption, and queues the "message" update.
func (s *Server) SendDocumentFrom(chatID, fromUserID int64, name string, data []byte, caption string) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	us := s.st.mustUserLocked(fromUserID)
	ch := s.st.userChatLocked(chatID, us)
	doc := *s.st.newFileLocked(name, detectMime(name, "", data), append([]byte(nil), data...))
	doc.Caption = caption
	m := &Message{From: us.user, Document: &doc, Entities: commandEntities(caption)}
	s.st.addMessageLocked(ch, m)
	m.UpdateID, _ = s.st.enqueueLocked("message", s.st.wireMessageLocked(ch, m, true))
	s.emitLocked(Event{Kind: EventUser, ChatID: m.ChatID, MessageID: m.MessageID, Message: m.clone()})
	s.bumpLocked()
	return m.clone()
}

// PressButton injects a callback_query update: the user pressed a button
// with callback data on a message. The data is not checked against the
// message's keyboard, so tests can forge it; the message must exist. It
// returns the query id for CallbackAnswer.
func (s *Server) PressButton(chatID, fromUserID int64, messageID int, data string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _ := s.st.pressLocked("PressButton", chatID, fromUserID, messageID, data, s.st.enqueueLocked)
	s.bumpLocked()
	return id
}

// pressLocked registers a callback query and hands its "callback_query"
// update to deliver (st.enqueueLocked or st.issueLocked); caller names the
// exported function in panics.
func (st *state) pressLocked(caller string, chatID, fromUserID int64, messageID int, data string, deliver func(kind string, payload any) (int, []byte)) (string, []byte) {
	us := st.mustUserLocked(fromUserID)
	ch, ok := st.chats[chatID]
	if !ok {
		panic(fmt.Sprintf("telegramtest: %s: unknown chat %d", caller, chatID))
	}
	m, ok := ch.byID[messageID]
	if !ok || m.Deleted {
		panic(fmt.Sprintf("telegramtest: %s: no message %d in chat %d", caller, messageID, chatID))
	}
	st.querySeq++
	id := strconv.FormatInt(4300000000000000000+int64(st.querySeq), 10)
	st.queries[id] = &queryState{
		answer:  CallbackAnswer{QueryID: id, ChatID: chatID, MessageID: messageID, FromID: fromUserID, Data: data},
		created: st.now(),
	}
	_, raw := deliver("callback_query", wCallbackQuery{
		ID:           id,
		From:         wireUser(us.user),
		Message:      st.wireMessageLocked(ch, m, false),
		ChatInstance: strconv.FormatInt(chatID^0x5DEECE66D, 10),
		Data:         data,
	})
	return id, raw
}

// commandEntities finds bot commands the way Telegram marks them: a "/"
// at the start or after white space, 1-32 letters, digits or underscores,
// optionally "@botname".
func commandEntities(text string) []Entity {
	var ents []Entity
	pos := 0 // UTF-16 offset of text[i]
	prevSpace := true
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if r == '/' && prevSpace {
			j := i + 1
			for j < len(text) && j-i-1 < 32 && isCommandByte(text[j]) {
				j++
			}
			if j > i+1 {
				if j < len(text) && text[j] == '@' {
					k := j + 1
					for k < len(text) && isCommandByte(text[k]) {
						k++
					}
					if k > j+1 {
						j = k
					}
				}
				ents = append(ents, Entity{Type: "bot_command", Offset: pos, Length: j - i})
				pos += j - i // ASCII only: bytes equal UTF-16 units
				i = j
				prevSpace = false
				continue
			}
		}
		prevSpace = r == ' ' || r == '\n' || r == '\t'
		pos += utf16.RuneLen(r)
		i += n
	}
	return ents
}

func isCommandByte(c byte) bool { return isASCIIAlnum(c) || c == '_' }

// confirmLocked forgets the updates a getUpdates offset confirms.
func (st *state) confirmLocked(offset int64) {
	ups := st.updates
	switch {
	case offset > 0:
		kept := ups[:0]
		for _, u := range ups {
			if int64(u.id) >= offset || u.redeliver {
				kept = append(kept, u)
			}
		}
		st.updates = kept
	case offset < 0 && int64(len(ups)) > -offset:
		st.updates = append([]pendingUpdate(nil), ups[int64(len(ups))+offset:]...)
	}
}

// takeUpdatesLocked returns up to limit updates, dropping those of kinds
// the bot did not allow (the real server never queues them).
func (st *state) takeUpdatesLocked(limit int) []json.RawMessage {
	out := []json.RawMessage{}
	kept := st.updates[:0]
	for _, u := range st.updates {
		if !st.allowedLocked(u.kind) {
			continue
		}
		if len(out) < limit {
			out = append(out, u.raw)
			u.redeliver = false // returned: the offset may confirm it now
		}
		kept = append(kept, u)
	}
	st.updates = kept
	return out
}

var (
	errPollConflict = &apiError{code: http.StatusConflict,
		desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
	errWebhookActive = &apiError{code: http.StatusConflict,
		desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
)

// goneGrace is how long a poll a newer one terminated waits to see
// whether its client has gone before it answers 409.
const goneGrace = 250 * time.Millisecond

// conflictOrGone is the end of a poll a newer one terminated: 409, unless
// its client had gone already (a poller that stopped and cancelled its
// request) — nobody is there to be refused, and a test counting 409s must
// see only pollers that really overlapped. The server learns that a client
// closed its connection a moment later than the client does it, and a
// replica that stopped polling hands its lease on right after: the next
// poll may arrive first. So the terminated poll waits a little for its
// client's departure before calling it a conflict; a client still there
// gets its 409 that much later, which no poller can tell from Telegram's
// own pace.
func conflictOrGone(c *call) error {
	t := time.NewTimer(goneGrace)
	defer t.Stop()
	select {
	case <-c.ctx.Done():
		return errClientGone
	case <-t.C:
		return errPollConflict
	}
}

// handleGetUpdates implements long polling: confirm by offset, answer at
// once when updates wait, otherwise hold the request for up to timeout
// seconds and answer as soon as one arrives. A newer getUpdates
// terminates an older one with 409, as the real server does.
func handleGetUpdates(s *Server, c *call) (reply, error) {
	offset, _ := c.int64("offset")
	limit := 100
	if c.has("limit") {
		limit = c.int("limit")
	}
	timeout := max(c.int("timeout"), 0)
	var allowed []string
	if err := c.decode("allowed_updates", &allowed); err != nil {
		return reply{}, err
	}

	s.mu.Lock()
	if s.st.webhook != nil {
		s.mu.Unlock()
		return reply{}, errWebhookActive
	}
	if c.has("allowed_updates") {
		s.st.setAllowedLocked(allowed)
	}
	me := &pollState{conflict: make(chan struct{})}
	if s.st.poll != nil {
		close(s.st.poll.conflict)
	}
	s.st.poll = me
	s.bumpLocked() // lets observers see the poll in flight
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.st.poll == me {
			s.st.poll = nil
		}
		s.mu.Unlock()
	}()

	timer := time.NewTimer(time.Duration(timeout) * time.Second)
	defer timer.Stop()
	for {
		s.mu.Lock()
		select {
		case <-me.conflict:
			s.mu.Unlock()
			return reply{}, conflictOrGone(c)
		default:
		}
		if s.st.webhook != nil {
			s.mu.Unlock()
			return reply{}, errWebhookActive
		}
		s.st.confirmLocked(offset)
		ups := s.st.takeUpdatesLocked(limit)
		changed := s.changed
		s.mu.Unlock()
		if len(ups) > 0 || timeout == 0 {
			return reply{result: ups}, nil
		}
		select {
		case <-changed:
		case <-me.conflict:
			return reply{}, conflictOrGone(c)
		case <-timer.C:
			return reply{result: []json.RawMessage{}}, nil
		case <-s.closing:
			return reply{result: []json.RawMessage{}}, nil
		case <-c.ctx.Done():
			return reply{}, errClientGone
		}
	}
}
