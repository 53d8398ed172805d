package demo

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/i18n"
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
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

// newTestTerminal is a terminal in Vietnamese on a stand-in of its own,
// both closed when the test ends.
func newTestTerminal(t *testing.T) (*telegramtest.Server, *terminal) {
	t.Helper()
	tg := telegramtest.New()
	t.Cleanup(tg.Close)
	cat, err := i18n.New("vi")
	if err != nil {
		t.Fatal(err)
	}
	term := newTerminal(tg, cat, "vi", io.Discard, slog.New(slog.DiscardHandler))
	t.Cleanup(term.cancel)
	return tg, term
}

// A number presses the buttons of the message that answered the person,
// not those of a message that arrived on its own meanwhile (a reminder).
func TestNumberPressesTheMessageThatAnsweredThePerson(t *testing.T) {
	_, term := newTestTerminal(t)
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

// The terminal is idle only once it has read every event of the stand-in:
// an event still on its way (the stand-in hands them over through a
// goroutine) would otherwise be printed after the next typed line.
func TestTerminalIsNotIdleWhileAnEventIsOnItsWay(t *testing.T) {
	tg, term := newTestTerminal(t)
	ctx := context.Background()
	if !term.idle(ctx) {
		t.Fatal("a terminal with nothing sent is not idle")
	}
	user := people[1].user
	tg.AddUser(user)
	tg.SendText(user.ID, user.ID, "/help")
	if got := tg.PendingUpdates(); got != 1 {
		t.Fatalf("PendingUpdates = %d, want 1", got)
	}
	if term.idle(ctx) {
		t.Error("idle with an update not yet taken by the bot")
	}
	// Take and confirm the update as the bot's poller does; the event of
	// the user's message has not been read yet.
	bot, err := tgbotapi.NewBotAPIWithAPIEndpoint(tg.Token(), tg.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 0})
	if err != nil || len(ups) != 1 {
		t.Fatalf("getUpdates = %d updates, %v; want the one sent", len(ups), err)
	}
	if _, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: ups[0].UpdateID + 1}); err != nil {
		t.Fatal(err)
	}
	if got := tg.PendingUpdates(); got != 0 {
		t.Fatalf("PendingUpdates = %d after the offset confirmed it, want 0", got)
	}
	if term.idle(ctx) {
		t.Error("idle with an event not yet read")
	}
	term.drainQuiet(ctx)
	if !term.idle(ctx) {
		t.Error("not idle once every event was read")
	}
}

// The demo's meeting is set so that its first reminder comes between 30
// and 90 seconds after the start, whatever the second the demo starts at.
func TestUpcomingMeetingsFirstReminderIsNotInTheFirstSeconds(t *testing.T) {
	loc := time.FixedZone("ICT", 7*3600)
	base := time.Date(2026, 12, 3, 10, 7, 0, 0, loc)
	for s := 0; s < 120; s += 5 {
		now := base.Add(time.Duration(s) * time.Second)
		cmd := upcomingMeeting(now, loc)
		when := strings.TrimPrefix(strings.SplitN(cmd, " | ", 2)[0], "/meeting_new ")
		start, err := time.ParseInLocation("02/01/2006 15:04", when, loc)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		first := start.Add(-demoMeetingOffsets[0]).Sub(now)
		if first < 30*time.Second || first >= 90*time.Second {
			t.Errorf("started at %s: the first reminder comes %v later, want 30 s to 90 s", now.Format("15:04:05"), first)
		}
	}
}
