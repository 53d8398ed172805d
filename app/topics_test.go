package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/internal/clocktest"
)

// In a forum group the bloc posts its announcements in the topic where
// /setup was sent (another /setup moves them); an answer goes to the topic
// of its command, as a reply to it.
func TestForumTopicsKeepAnswersAndAnnouncementsApart(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{Charts: true})
	const forum = -1001777
	h.TG.AddGroup(telegramtest.Chat{ID: forum, Title: "Khối (diễn đàn)", IsForum: true},
		telegramtest.Member{UserID: aliceID, Status: "administrator"},
		telegramtest.Member{UserID: bobID, Status: "member"})
	bloc := h.TG.AddTopic(forum, "Thi đua")
	chat := h.TG.AddTopic(forum, "Trao đổi")
	say := func(thread int, user int64, text string) telegramtest.Message {
		t.Helper()
		sent := h.TG.SendTextInTopic(forum, user, thread, text)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		// The answer replies to its command (a post to the bloc's topic
		// may come first).
		m, err := h.TG.WaitBotMessage(ctx, forum, func(m telegramtest.Message) bool {
			return m.MessageID > sent.MessageID && (m.ReplyToMessageID == sent.MessageID || m.Thread == thread)
		})
		if err != nil {
			t.Fatalf("no answer to %q in topic %d: %v", text, thread, err)
		}
		h.Settle()
		if m.Thread != thread || m.ReplyToMessageID != sent.MessageID {
			t.Errorf("%q in topic %d was answered in topic %d, replying to %d (want %d): %q", text, thread, m.Thread, m.ReplyToMessageID, sent.MessageID, m.Text)
		}
		return m
	}
	if m := say(bloc, aliceID, "/setup Khối thi đua Nội chính"); !strings.Contains(m.Text, "Đã lập khối") {
		t.Fatalf("/setup answered %q", m.Text)
	}
	say(chat, aliceID, "/unit_add TANDTC Tòa án nhân dân tối cao")
	say(chat, aliceID, "/unit_add KTNN Kiểm toán nhà nước")
	say(0, bobID, "/help")

	// A ballot opened from the other topic is posted in the bloc's topic,
	// and the person is told there.
	if m := say(chat, aliceID, "/elect head"); !strings.Contains(m.Text, "Đã mở cuộc bỏ phiếu") {
		t.Errorf("/elect in another topic answered %q", m.Text)
	}
	post := lastWith(t, h, forum, "🗳 Bầu Khối trưởng năm")
	if post.Thread != bloc || len(post.ReplyMarkup) == 0 {
		t.Errorf("the ballot post is in topic %d (want %d) with %d button rows", post.Thread, bloc, len(post.ReplyMarkup))
	}
	// /setup in the other topic moves the bloc there.
	if m := say(chat, aliceID, "/setup"); !strings.Contains(m.Text, "được đăng trong chủ đề này") {
		t.Errorf("/setup in another topic answered %q", m.Text)
	}
	say(bloc, aliceID, "/motion Thông qua chương trình hội nghị")
	if post := lastWith(t, h, forum, "🗳 Thông qua chương trình hội nghị"); post.Thread != chat {
		t.Errorf("after the move the motion is posted in topic %d, want %d", post.Thread, chat)
	}
	// A button's answer stays in the topic of its message.
	close := say(chat, aliceID, "/close 1")
	apptest.Press(t, h, forum, aliceID, close, "🔒 Kết thúc")
	if result := lastWith(t, h, forum, "📋 Kết quả"); result.Thread != chat {
		t.Errorf("the result is posted in topic %d, want %d", result.Thread, chat)
	}
	apptest.WaitFor(t, func() bool {
		ms := h.TG.BotMessages(forum)
		last := ms[len(ms)-1]
		return last.Photo != nil
	})
	if ms := h.TG.BotMessages(forum); ms[len(ms)-1].Thread != chat {
		t.Errorf("the result's chart is in topic %d, want %d", ms[len(ms)-1].Thread, chat)
	}
	// /results in the first topic: its text, chart and minutes answer
	// there, each replying to the command.
	sent := h.TG.SendTextInTopic(forum, aliceID, bloc, "/results 1")
	apptest.WaitFor(t, func() bool {
		n := 0
		for _, m := range h.TG.BotMessages(forum) {
			if m.ReplyToMessageID == sent.MessageID {
				n++
			}
		}
		return n >= 4 // text, chart, minutes PDF and CSV
	})
	for _, m := range h.TG.BotMessages(forum) {
		if m.ReplyToMessageID == sent.MessageID && m.Thread != bloc {
			t.Errorf("an answer to /results is in topic %d, want %d (photo %v, document %v)", m.Thread, bloc, m.Photo != nil, m.Document != nil)
		}
	}
}

// lastWith is the bot's latest message in chat that contains want.
func lastWith(t *testing.T, h *apptest.Harness, chat int64, want string) telegramtest.Message {
	t.Helper()
	msgs := h.TG.BotMessages(chat)
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(msgs[i].Text, want) {
			return msgs[i]
		}
	}
	t.Fatalf("no bot message in chat %d contains %q", chat, want)
	return telegramtest.Message{}
}

// A meeting created in another topic is announced, and reminded, in the
// bloc's topic.
func TestRemindersGoToTheBlocsTopic(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(apptest.MeetingClockStart)
	h := apptest.StartBot(t, apptest.Options{Env: map[string]string{"COMMITTEEBOT_REMINDERS_TICK": "20ms"}, AppOpts: []app.Option{app.WithClock(clock.Now)}})
	const forum = -1001778
	h.TG.AddGroup(telegramtest.Chat{ID: forum, Title: "Khối (diễn đàn)", IsForum: true}, telegramtest.Member{UserID: aliceID, Status: "administrator"})
	bloc := h.TG.AddTopic(forum, "Thi đua")
	other := h.TG.AddTopic(forum, "Trao đổi")
	h.TG.SendTextInTopic(forum, aliceID, bloc, "/setup Khối thi đua Nội chính")
	h.Settle()
	h.TG.SendTextInTopic(forum, aliceID, other, apptest.Conference)
	waitMessage(t, h, forum, "Đã tạo cuộc họp")
	if a := lastWith(t, h, forum, "📅"); a.Thread != bloc {
		t.Errorf("the announcement is in topic %d, want %d", a.Thread, bloc)
	}
	apptest.AdvanceTo(clock, apptest.At(7, 14, 0)) // 72 hours before
	if r := apptest.WaitReminders(t, h, forum, 1); r.Thread != bloc {
		t.Errorf("the reminder is in topic %d, want %d", r.Thread, bloc)
	}
}
