package telegramtest

import (
	"encoding/json"
	"strconv"
	"testing"
)

func TestDirectUpdatesAreNotQueuedButCanBeRedelivered(t *testing.T) {
	s := newServer(t)
	m, raw := s.SendTextUpdate(alice, alice, "/start hello")
	var u struct {
		UpdateID int `json:"update_id"`
		Message  struct {
			MessageID int    `json:"message_id"`
			Text      string `json:"text"`
			Chat      struct {
				ID int64 `json:"id"`
			} `json:"chat"`
			Entities []struct {
				Type string `json:"type"`
			} `json:"entities"`
		} `json:"message"`
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		t.Fatalf("update does not decode: %v\n%s", err, raw)
	}
	if u.UpdateID != m.UpdateID || u.Message.MessageID != m.MessageID || u.Message.Chat.ID != alice ||
		u.Message.Text != "/start hello" || len(u.Message.Entities) != 1 || u.Message.Entities[0].Type != "bot_command" {
		t.Errorf("update %s does not match message %+v", raw, m)
	}
	if n := s.PendingUpdates(); n != 0 {
		t.Errorf("%d updates queued, want none", n)
	}
	if _, ok := s.Message(alice, m.MessageID); !ok {
		t.Error("the user's message is not stored")
	}

	bot := sendBotMessage(t, s, alice)
	qid, raw := s.PressButtonUpdate(alice, alice, bot, "x:1")
	var cq struct {
		UpdateID      int `json:"update_id"`
		CallbackQuery struct {
			ID   string `json:"id"`
			Data string `json:"data"`
		} `json:"callback_query"`
	}
	if err := json.Unmarshal(raw, &cq); err != nil {
		t.Fatalf("callback update does not decode: %v\n%s", err, raw)
	}
	if cq.CallbackQuery.ID != qid || cq.CallbackQuery.Data != "x:1" || cq.UpdateID != u.UpdateID+1 {
		t.Errorf("callback update %s, query %s", raw, qid)
	}
	if _, ok := s.CallbackAnswer(qid); !ok {
		t.Error("the callback query is not registered")
	}
	if s.PendingUpdates() != 0 {
		t.Error("the callback update was queued")
	}
	if !s.Redeliver(cq.UpdateID) || s.PendingUpdates() != 1 {
		t.Error("a direct update cannot be redelivered")
	}
}

func TestRequestsFromReturnsOnlyNewRequests(t *testing.T) {
	s := newServer(t)
	sendBotMessage(t, s, alice)
	n := s.RequestCount()
	if n != 1 {
		t.Fatalf("RequestCount = %d after one call", n)
	}
	sendBotMessage(t, s, alice)
	got := s.RequestsFrom(n)
	if len(got) != 1 || got[0].Method != "sendMessage" || got[0].Time.IsZero() {
		t.Errorf("RequestsFrom(%d) = %+v, want the one new sendMessage", n, got)
	}
	if len(s.RequestsFrom(5)) != 0 || len(s.RequestsFrom(-1)) != 2 {
		t.Error("RequestsFrom out of range")
	}
}

// sendBotMessage posts a message as the bot and returns its id.
func sendBotMessage(t *testing.T, s *Server, chat int64) int {
	t.Helper()
	var m struct {
		MessageID int `json:"message_id"`
	}
	if err := json.Unmarshal(mustOK(t, s, "sendMessage", "chat_id", strconv.FormatInt(chat, 10), "text", "hi"), &m); err != nil {
		t.Fatalf("sendMessage result: %v", err)
	}
	return m.MessageID
}
