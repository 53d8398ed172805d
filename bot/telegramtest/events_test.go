package telegramtest

import (
	"context"
	"errors"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"
)

func TestSubscribeSeesChangesInOrder(t *testing.T) {
	s := newServer(t)
	bot := newBot(t, s)
	events, cancel := s.Subscribe()
	defer cancel()

	msg := tgbotapi.NewMessage(alice, "Phiếu")
	msg.ReplyMarkup = voteKeyboard("a")
	sent, err := bot.Send(msg)
	if err != nil {
		t.Fatal(err)
	}
	qid := s.PressButton(alice, alice, sent.MessageID, "a")
	steps := []tgbotapi.Chattable{
		tgbotapi.NewEditMessageText(alice, sent.MessageID, "Đã bỏ phiếu"),
		tgbotapi.NewCallback(qid, "OK"),
		tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "vote", Description: "Vote"}),
		tgbotapi.NewDeleteMessage(alice, sent.MessageID),
		tgbotapi.NewDocument(alice, tgbotapi.FileBytes{Name: "a.csv", Bytes: []byte("a,b\n")}),
	}
	for _, c := range steps {
		if _, err := bot.Request(c); err != nil {
			t.Fatalf("%T: %v", c, err)
		}
	}
	s.SendText(alice, alice, "thanks")

	var kinds []string
	for i := range 7 {
		ev := <-events
		kinds = append(kinds, ev.Kind)
		if want := uint64(i + 1); ev.Seq != want {
			t.Errorf("event %d (%s) has Seq %d, want %d", i+1, ev.Kind, ev.Seq, want)
		}
	}
	if got := s.LastEventSeq(); got != 7 {
		t.Errorf("LastEventSeq = %d after seven events, want 7", got)
	}
	want := []string{EventSend, EventEdit, EventAnswer, EventCommands, EventDelete, EventDocument, EventUser}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("event kinds (-want +got):\n%s", diff)
	}
}

func TestWaitBotMessageWakesOnEdit(t *testing.T) {
	s := newServer(t)
	bot := newBot(t, s)
	sent, err := bot.Send(tgbotapi.NewMessage(groupID, "Đang kiểm phiếu…"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Message, 1)
	go func() {
		m, _ := s.WaitBotMessage(testCtx(t), groupID, func(m Message) bool { return m.Text == "Kết quả: 5/8" })
		done <- m
	}()
	if _, err := bot.Send(tgbotapi.NewEditMessageText(groupID, sent.MessageID, "Kết quả: 5/8")); err != nil {
		t.Fatal(err)
	}
	if m := <-done; m.MessageID != sent.MessageID || m.Edits != 1 {
		t.Errorf("waited message = %+v, want the edited one", m)
	}

	// WaitBotMessageAfter ignores what the bot sent before the user's message.
	user := s.SendText(groupID, alice, "/status")
	if _, err := bot.Send(tgbotapi.NewMessage(groupID, "Không có phiên họp")); err != nil {
		t.Fatal(err)
	}
	reply, err := s.WaitBotMessageAfter(testCtx(t), groupID, user.MessageID, nil)
	if err != nil || reply.Text != "Không có phiên họp" {
		t.Errorf("reply = %+v, %v", reply, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.WaitBotMessageAfter(ctx, groupID, reply.MessageID, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("wait with cancelled context: %v, want context.Canceled", err)
	}
}
