package apptest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/internal/clocktest"
	"github.com/committeebot/committeebot/storage"
)

// MeetingClockStart is 16:00 on Monday 1 April 2024 in Hà Nội, nine days
// before the bloc's conference of the seed article.
var MeetingClockStart = time.Date(2024, 4, 1, 9, 0, 0, 0, time.UTC)

// Hanoi is the committees' default time zone.
var Hanoi, _ = time.LoadLocation("Asia/Ho_Chi_Minh")

// Conference is the one-line creation of the 10/4/2024 conference.
const Conference = "/meeting_new 10/04/2024 14:00 | Hội nghị tổng kết năm 2023 | Hà Nội | Báo cáo tổng kết; Bầu Khối trưởng, Khối phó; Ký Giao ước thi đua"

// MeetingBot starts the bot on a test clock with a fast scheduler tick
// and binds the group to a bloc of two units, Bob delegate of TANDTC and
// Carol of KTNN.
func MeetingBot(t *testing.T, env map[string]string, opts ...app.Option) (*Harness, *Clock) {
	t.Helper()
	clock := clocktest.New(MeetingClockStart)
	e := map[string]string{"COMMITTEEBOT_REMINDERS_TICK": "20ms"}
	for k, v := range env {
		e[k] = v
	}
	// The sender's pacing is tested in package bot and by the fan-out
	// test; here it would only make the tests wait.
	unlimited := app.WithOutboxLimits(storage.OutboxLimits{})
	h := StartBot(t, Options{Env: e, AppOpts: append([]app.Option{app.WithClock(clock.Now), unlimited}, opts...)})
	BlocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước"}, []Seat{{BobID, "TANDTC"}, {CarolID, "KTNN"}})
	return h, clock
}

// CreateConference creates the conference as Alice in the group and
// returns its announcement.
func CreateConference(t *testing.T, h *Harness) telegramtest.Message {
	t.Helper()
	m := h.Say(GroupID, AliceID, Conference)
	if !strings.Contains(m.Text, "Hội nghị tổng kết năm 2023") || !strings.Contains(m.Text, "/meeting 1") {
		t.Fatalf("/meeting_new answered %q", m.Text)
	}
	return m
}

// Ask sends text and waits for the bot's answer in chat that contains
// want (jobs may post other messages meanwhile).
func Ask(t *testing.T, h *Harness, chat, user int64, text, want string) telegramtest.Message {
	t.Helper()
	sent := h.TG.SendText(chat, user, text)
	return h.WaitAfter(chat, sent.MessageID, fmt.Sprintf("answer to %s containing %q", text, want), func(m telegramtest.Message) bool {
		return strings.Contains(m.Text, want)
	})
}

// Count is how many bot messages in chat contain want.
func Count(h *Harness, chat int64, want string) int {
	return h.CountWhere(chat, func(text string) bool { return strings.Contains(text, want) })
}

// AdvanceTo moves the test clock to t.
func AdvanceTo(c *Clock, t time.Time) { c.Advance(t.Sub(c.Now())) }

// At is a time of day in Hà Nội in April 2024.
func At(day, hour, minute int) time.Time { return time.Date(2024, 4, day, hour, minute, 0, 0, Hanoi) }

// ReminderMark begins every meeting reminder (in Vietnamese).
const ReminderMark = "Nhắc lịch họp"

// WaitReminders waits until chat has n reminders and returns the last.
func WaitReminders(t *testing.T, h *Harness, chat int64, n int) telegramtest.Message {
	t.Helper()
	var last telegramtest.Message
	WaitFor(t, func() bool {
		got := 0
		for _, m := range h.TG.BotMessages(chat) {
			if strings.Contains(m.Text, ReminderMark) {
				got++
				last = m
			}
		}
		return got >= n
	}, h.Logs.String)
	return last
}

// AddMember adds user to the stand-in, with a private chat with the bot,
// and makes them a delegate of unit of committee 1 through AddDelegate.
func AddMember(t *testing.T, h *Harness, unit string, user telegramtest.User) {
	t.Helper()
	h.TG.AddUser(user)
	h.TG.StartPrivate(user.ID)
	AddDelegate(t, h, "1", unit, user)
}

// AddDelegate makes user a delegate of unit directly in the store (fast
// set-up for tests with many delegates).
func AddDelegate(t *testing.T, h *Harness, committee, unit string, user telegramtest.User) {
	t.Helper()
	ctx := context.Background()
	s := storage.NewCommittees(h.Redis.Client(), storage.NewKeys(h.Redis.Prefix()))
	inv, err := s.CreateInvite(ctx, committee, unit, AdminID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RedeemInvite(ctx, inv.Token, domain.Delegate{UserID: user.ID, Name: user.FirstName, Username: user.Username}); err != nil {
		t.Fatal(err)
	}
}
