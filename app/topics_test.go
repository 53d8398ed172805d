package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/internal/clocktest"
)

// In a forum group the bloc posts its announcements in the topic where
// /setup was sent (another /setup moves them); an answer goes to the topic
// of its command, as a reply to it.
func TestForumTopicsKeepAnswersAndAnnouncementsApart(t *testing.T) {
	t.Parallel()
	h := startBot(t, harnessOpts{charts: true})
	const forum = -1001777
	h.tg.AddGroup(telegramtest.Chat{ID: forum, Title: "Khối (diễn đàn)", IsForum: true},
		telegramtest.Member{UserID: aliceID, Status: "administrator"},
		telegramtest.Member{UserID: bobID, Status: "member"})
	bloc := h.tg.AddTopic(forum, "Thi đua")
	chat := h.tg.AddTopic(forum, "Trao đổi")
	say := func(thread int, user int64, text string) telegramtest.Message {
		t.Helper()
		sent := h.tg.SendTextInTopic(forum, user, thread, text)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		// The answer replies to its command (a post to the bloc's topic
		// may come first).
		m, err := h.tg.WaitBotMessage(ctx, forum, func(m telegramtest.Message) bool {
			return m.MessageID > sent.MessageID && (m.ReplyToMessageID == sent.MessageID || m.Thread == thread)
		})
		if err != nil {
			t.Fatalf("no answer to %q in topic %d: %v", text, thread, err)
		}
		h.settle()
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
	post := lastWith(h, forum, "🗳 Bầu Khối trưởng năm")
	if post.Thread != bloc || len(post.ReplyMarkup) == 0 {
		t.Errorf("the ballot post is in topic %d (want %d) with %d button rows", post.Thread, bloc, len(post.ReplyMarkup))
	}
	// /setup in the other topic moves the bloc there.
	if m := say(chat, aliceID, "/setup"); !strings.Contains(m.Text, "được đăng trong chủ đề này") {
		t.Errorf("/setup in another topic answered %q", m.Text)
	}
	say(bloc, aliceID, "/motion Thông qua chương trình hội nghị")
	if post := lastWith(h, forum, "🗳 Thông qua chương trình hội nghị"); post.Thread != chat {
		t.Errorf("after the move the motion is posted in topic %d, want %d", post.Thread, chat)
	}
	// A button's answer stays in the topic of its message.
	close := say(chat, aliceID, "/close 1")
	press(t, h, forum, aliceID, close, "🔒 Kết thúc")
	if result := lastWith(h, forum, "📋 Kết quả"); result.Thread != chat {
		t.Errorf("the result is posted in topic %d, want %d", result.Thread, chat)
	}
	waitFor(t, func() bool {
		ms := h.tg.BotMessages(forum)
		last := ms[len(ms)-1]
		return last.Photo != nil
	})
	if ms := h.tg.BotMessages(forum); ms[len(ms)-1].Thread != chat {
		t.Errorf("the result's chart is in topic %d, want %d", ms[len(ms)-1].Thread, chat)
	}
	// /results in the first topic: its text, chart and minutes answer
	// there, each replying to the command.
	sent := h.tg.SendTextInTopic(forum, aliceID, bloc, "/results 1")
	waitFor(t, func() bool {
		n := 0
		for _, m := range h.tg.BotMessages(forum) {
			if m.ReplyToMessageID == sent.MessageID {
				n++
			}
		}
		return n >= 4 // text, chart, minutes PDF and CSV
	})
	for _, m := range h.tg.BotMessages(forum) {
		if m.ReplyToMessageID == sent.MessageID && m.Thread != bloc {
			t.Errorf("an answer to /results is in topic %d, want %d (photo %v, document %v)", m.Thread, bloc, m.Photo != nil, m.Document != nil)
		}
	}
}

// lastWith is the bot's latest message in chat that contains want.
func lastWith(h *harness, chat int64, want string) telegramtest.Message {
	h.t.Helper()
	msgs := h.tg.BotMessages(chat)
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(msgs[i].Text, want) {
			return msgs[i]
		}
	}
	h.t.Fatalf("no bot message in chat %d contains %q", chat, want)
	return telegramtest.Message{}
}

// A meeting created in another topic is announced, and reminded, in the
// bloc's topic.
func TestRemindersGoToTheBlocsTopic(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(meetingClockStart)
	h := startBot(t, harnessOpts{env: map[string]string{"COMMITTEEBOT_REMINDERS_TICK": "20ms"}, appOpts: []app.Option{app.WithClock(clock.Now)}})
	const forum = -1001778
	h.tg.AddGroup(telegramtest.Chat{ID: forum, Title: "Khối (diễn đàn)", IsForum: true}, telegramtest.Member{UserID: aliceID, Status: "administrator"})
	bloc := h.tg.AddTopic(forum, "Thi đua")
	other := h.tg.AddTopic(forum, "Trao đổi")
	h.tg.SendTextInTopic(forum, aliceID, bloc, "/setup Khối thi đua Nội chính")
	h.settle()
	h.tg.SendTextInTopic(forum, aliceID, other, conference)
	waitMessage(t, h, forum, "Đã tạo cuộc họp")
	if a := lastWith(h, forum, "📅"); a.Thread != bloc {
		t.Errorf("the announcement is in topic %d, want %d", a.Thread, bloc)
	}
	advanceTo(clock, at(7, 14, 0)) // 72 hours before
	if r := waitReminders(t, h, forum, 1); r.Thread != bloc {
		t.Errorf("the reminder is in topic %d, want %d", r.Thread, bloc)
	}
}
