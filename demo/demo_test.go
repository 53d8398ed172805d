package demo

import (
	"io"
	"log/slog"
	"testing"

	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/i18n"
)

func TestFoldMatchesNamesWithoutDiacritics(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want string
	}{
		{"tuan", "Tuấn"}, {"TUẤN", "Tuấn"}, {"Vu Tuan", "Tuấn"}, {"Tuấn Vũ", "Tuấn"}, {"hoa do", "Hoa"},
		{"Đỗ Hoa", "Hoa"}, {"ha", "Hà"}, {"@lan_vksndtc", "Lan"}, {"bqllang", "Hoa"}, {"x", ""},
	} {
		term := &terminal{}
		i, ok := term.findPerson(tc.arg)
		got := ""
		if ok {
			got = people[i].user.FirstName
		}
		if got != tc.want {
			t.Errorf("findPerson(%q) = %q, want %q", tc.arg, got, tc.want)
		}
	}
}

// A number presses the buttons of the message that answered the person,
// not those of a message that arrived on its own meanwhile (a reminder).
func TestNumberPressesTheMessageThatAnsweredThePerson(t *testing.T) {
	tg := telegramtest.New()
	defer tg.Close()
	cat, err := i18n.New("vi")
	if err != nil {
		t.Fatal(err)
	}
	term := newTerminal(tg, cat, "vi", io.Discard, slog.New(slog.DiscardHandler))
	defer term.cancel()
	user := people[1].user.ID
	term.chatID, term.current = user, 1
	kb := func(id int, text, label string) telegramtest.Message {
		return telegramtest.Message{ChatID: user, MessageID: id, Text: text,
			ReplyMarkup: [][]telegramtest.Button{{{Text: label, CallbackData: "x:" + label}}}}
	}
	term.answering = true
	term.body(kb(1, "Chọn ngôn ngữ:", "English"))
	term.answering = false
	term.body(kb(2, "⏰ Nhắc lịch họp", "Có dự"))
	if msg, btn, ok := term.target(1); !ok || msg.MessageID != 1 || btn.Text != "English" {
		t.Errorf("target(1) = message %d, button %q, %v; want the language choice's English", msg.MessageID, btn.Text, ok)
	}
	// With no answer of their own in that chat, the latest message with
	// buttons is pressed.
	term.current = 2
	if msg, _, ok := term.target(1); !ok || msg.MessageID != 2 {
		t.Errorf("without an answer of one's own, target(1) = message %d, %v; want the latest, 2", msg.MessageID, ok)
	}
	if _, _, ok := term.target(2); ok {
		t.Error("target(2) found a button the message does not have")
	}
}
