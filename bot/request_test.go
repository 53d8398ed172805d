package bot

import (
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"
)

func message(chatID int64, chatType, text string) tgbotapi.Update {
	return tgbotapi.Update{UpdateID: 1, Message: &tgbotapi.Message{
		MessageID: 1,
		From:      &tgbotapi.User{ID: 7, FirstName: "An"},
		Chat:      &tgbotapi.Chat{ID: chatID, Type: chatType},
		Text:      text,
	}}
}

func TestNewRequestParsesCommands(t *testing.T) {
	type parsed struct {
		Command, Args string
		ForOtherBot   bool
		Kind          string
	}
	tests := []struct {
		text string
		want parsed
	}{
		{"/help", parsed{"help", "", false, KindCommand}},
		{"/HELP", parsed{"help", "", false, KindCommand}},
		{"/help@committee_bot", parsed{"help", "", false, KindCommand}},
		{"/help@Committee_Bot", parsed{"help", "", false, KindCommand}},
		{"/help@other_bot", parsed{"help", "", true, KindCommand}},
		{"/lang   en  ", parsed{"lang", "en", false, KindCommand}},
		{"/meeting_new 2025-01-20 09:00 | Hội nghị | Hà Nội", parsed{"meeting_new", "2025-01-20 09:00 | Hội nghị | Hà Nội", false, KindCommand}},
		{"/motion\nsecond line", parsed{"motion", "second line", false, KindCommand}},
		{"hello", parsed{"", "", false, KindText}},
		{"/", parsed{"", "", false, KindText}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r := NewRequest(message(5, "private", tt.text), "committee_bot")
			got := parsed{r.Command, r.Args, r.ForOtherBot, r.Kind()}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequestAccessorsReportMissingFields(t *testing.T) {
	r := NewRequest(tgbotapi.Update{UpdateID: 9}, "b")
	if _, ok := r.Sender(); ok {
		t.Error("Sender reported present on an empty update")
	}
	if _, ok := r.Chat(); ok {
		t.Error("Chat reported present on an empty update")
	}
	if _, ok := r.Callback(); ok {
		t.Error("Callback reported present on an empty update")
	}
	if r.Kind() != KindOther {
		t.Errorf("Kind = %q", r.Kind())
	}

	cb := NewRequest(tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{
		ID: "q", From: &tgbotapi.User{ID: 3}, Data: "ballot:5:yes",
		Message: &tgbotapi.Message{MessageID: 44, Chat: &tgbotapi.Chat{ID: -100, Type: "supergroup", Title: "Khối"}},
	}}, "b")
	if cb.Route != "ballot" || cb.Data != "5:yes" {
		t.Errorf("route %q data %q", cb.Route, cb.Data)
	}
	chat, ok := cb.Chat()
	if !ok || chat.ID != -100 || !chat.IsGroup() {
		t.Errorf("callback chat = %+v, %v", chat, ok)
	}
	if id, ok := cb.CallbackMessageID(); !ok || id != 44 {
		t.Errorf("CallbackMessageID = %d, %v", id, ok)
	}
	if cb.ChatKey() != -100 {
		t.Errorf("ChatKey = %d", cb.ChatKey())
	}
}

func TestBidiControlsAreStrippedFromWhatPeopleType(t *testing.T) {
	u := tgbotapi.Update{Message: &tgbotapi.Message{
		Text: "/meeting_new 2026-12-10 09:00 | Họp \u202eevil\u202c | Phòng \u2067A\u2069",
		From: &tgbotapi.User{ID: 1, FirstName: "An\u202e"},
		Chat: &tgbotapi.Chat{ID: 1, Type: "private"},
	}}
	r := NewRequest(u, "bot")
	if strings.ContainsFunc(r.Args, isBidiControl) || r.Args != "2026-12-10 09:00 | Họp evil | Phòng A" {
		t.Errorf("Args = %q", r.Args)
	}
	if user, _ := r.Sender(); user.FirstName != "An" {
		t.Errorf("FirstName = %q", user.FirstName)
	}
	if got := StripBidi("plain"); got != "plain" {
		t.Errorf("StripBidi(plain) = %q", got)
	}
}
