package telegramtest

import (
	"encoding/json"
	"fmt"
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
	return s.sendTextLocked(chatID, fromUserID, text, 0, s.st.issueLocked)
}

// PressButtonUpdate is PressButton without queueing: it registers the
// callback query and returns its id with the "callback_query" update to
// deliver. The message must exist; the data is not checked against its
// keyboard.
func (s *Server) PressButtonUpdate(chatID, fromUserID int64, messageID int, data string) (string, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, raw := s.st.pressLocked("PressButtonUpdate", chatID, fromUserID, messageID, data, s.st.issueLocked)
	s.bumpLocked()
	return id, raw
}

// issueLocked gives an update the next update_id and keeps it for
// Redeliver, like enqueueLocked, but does not queue it. It returns the id
// and the update's JSON.
func (st *state) issueLocked(kind string, payload any) (int, []byte) {
	id := st.nextUpdateID
	st.nextUpdateID++
	body, err := json.Marshal(map[string]any{"update_id": id, kind: payload})
	if err != nil {
		panic(fmt.Sprintf("telegramtest: encode update: %v", err)) // our own types always encode
	}
	st.history[id] = pendingUpdate{id: id, kind: kind, raw: body}
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
