package telegramtest

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Direct delivery: updates handed to the driver instead of queued.
//
// SendText and PressButton queue their update for getUpdates or the
// stand-in's webhook loop, which delivers one update at a time. A load
// generator (committeebot bench) needs to post updates to the bot's webhook
// itself, hundreds at once and at moments it chooses, while the users,
// chats, messages and callback queries still exist in the stand-in so that
// the bot's replies, edits and answers are checked and accepted as usual.
// The functions below do what SendText and PressButton do except queueing:
// the update gets the next update_id and is remembered for Redeliver, and
// its JSON is returned for the caller to deliver.

// SendTextUpdate is SendText without queueing: it stores the user's
// message and returns it with the "message" update to deliver. It panics
// on unknown users or groups.
func (s *Server) SendTextUpdate(chatID, fromUserID int64, text string) (Message, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	us := s.mustUserLocked(fromUserID)
	ch := s.userChatLocked(chatID, us)
	m := &Message{From: us.user, Text: text, Entities: commandEntities(text)}
	s.addMessageLocked(ch, m)
	id, raw := s.issueLocked("message", s.wireMessageLocked(ch, m, true))
	m.UpdateID = id
	s.emitLocked(Event{Kind: EventUser, ChatID: m.ChatID, MessageID: m.MessageID, Message: m.clone()})
	return m.clone(), raw
}

// PressButtonUpdate is PressButton without queueing: it registers the
// callback query and returns its id with the "callback_query" update to
// deliver. The message must exist; the data is not checked against its
// keyboard.
func (s *Server) PressButtonUpdate(chatID, fromUserID int64, messageID int, data string) (string, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	us := s.mustUserLocked(fromUserID)
	ch, ok := s.st.chats[chatID]
	if !ok {
		panic(fmt.Sprintf("telegramtest: PressButtonUpdate: unknown chat %d", chatID))
	}
	m, ok := ch.byID[messageID]
	if !ok || m.Deleted {
		panic(fmt.Sprintf("telegramtest: PressButtonUpdate: no message %d in chat %d", messageID, chatID))
	}
	s.st.querySeq++
	qid := strconv.FormatInt(4300000000000000000+int64(s.st.querySeq), 10)
	s.st.queries[qid] = &queryState{
		answer:  CallbackAnswer{QueryID: qid, ChatID: chatID, MessageID: messageID, FromID: fromUserID, Data: data},
		created: s.now(),
	}
	_, raw := s.issueLocked("callback_query", wCallbackQuery{
		ID:           qid,
		From:         wireUser(us.user),
		Message:      s.wireMessageLocked(ch, m, false),
		ChatInstance: strconv.FormatInt(chatID^0x5DEECE66D, 10),
		Data:         data,
	})
	return qid, raw
}

// issueLocked gives an update the next update_id and keeps it for
// Redeliver, like enqueueLocked, but does not queue it.
func (s *Server) issueLocked(kind string, payload any) (int, []byte) {
	id := s.st.nextUpdateID
	s.st.nextUpdateID++
	body, err := json.Marshal(map[string]any{"update_id": id, kind: payload})
	if err != nil {
		panic(fmt.Sprintf("telegramtest: encode update: %v", err)) // our own types always encode
	}
	s.st.history[id] = pendingUpdate{id: id, kind: kind, raw: body}
	s.bumpLocked()
	return id, body
}

// RequestCount is the number of requests recorded so far: an index for
// RequestsFrom.
func (s *Server) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// RequestsFrom returns the requests recorded from index i on (see
// RequestCount), in the order they were answered, so that a long run can
// read what is new without copying everything again. Request.Time is when
// the request arrived.
func (s *Server) RequestsFrom(i int) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < 0 {
		i = 0
	}
	if i >= len(s.requests) {
		return nil
	}
	return cloneRequests(s.requests[i:], func(Request) bool { return true })
}
