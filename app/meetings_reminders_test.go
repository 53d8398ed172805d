package app_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
)

// advanceTo moves the test clock to t.
func advanceTo(c *testClock, t time.Time) { c.Advance(t.Sub(c.Now())) }

// at is a time of day in Hà Nội in April 2024.
func at(day, hour, minute int) time.Time { return time.Date(2024, 4, day, hour, minute, 0, 0, hanoi) }

const reminderMark = "Nhắc lịch họp"

// waitReminders waits until chat has n reminders and returns the last.
func waitReminders(t *testing.T, h *harness, chat int64, n int) telegramtest.Message {
	t.Helper()
	var last telegramtest.Message
	waitFor(t, func() bool {
		got := 0
		for _, m := range h.tg.BotMessages(chat) {
			if strings.Contains(m.Text, reminderMark) {
				got++
				last = m
			}
		}
		return got >= n
	}, h.logs.String)
	return last
}

// addMember adds user to the stand-in, with a private chat with the bot,
// and makes them a delegate of unit of committee 1 through addDelegate.
func addMember(t *testing.T, h *harness, unit string, user telegramtest.User) {
	t.Helper()
	h.tg.AddUser(user)
	h.tg.StartPrivate(user.ID)
	addDelegate(t, h, "1", unit, user)
}

// addDelegate makes user a delegate of unit directly in the store (fast
// set-up for tests with many delegates).
func addDelegate(t *testing.T, h *harness, committee, unit string, user telegramtest.User) {
	t.Helper()
	ctx := context.Background()
	s := storage.NewCommittees(h.rd.Client(), storage.NewKeys(h.rd.Prefix()))
	inv, err := s.CreateInvite(ctx, committee, unit, adminID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RedeemInvite(ctx, inv.Token, domain.Delegate{UserID: user.ID, Name: user.FirstName, Username: user.Username}); err != nil {
		t.Fatal(err)
	}
}

func TestRemindersFollowTheMeetingAndSkipWhoDeclined(t *testing.T) {
	t.Parallel()
	h, clock := meetingBot(t, nil)
	// Dave, a second KTNN delegate, blocks the bot: he is skipped and
	// counted, not an error.
	addDelegate(t, h, "1", "KTNN", telegramtest.User{ID: daveID, FirstName: "Dave", Username: "dave"})
	h.tg.BlockBot(daveID)
	createConference(t, h)
	h.say(bobID, bobID, "/rsvp 1 yes")
	h.say(carolID, carolID, "/rsvp 1 no")

	advanceTo(clock, at(7, 14, 0)) // 72 hours before
	first := waitReminders(t, h, groupID, 1)
	hasAll(t, "first reminder", first.Text, "còn 3 ngày", "/meeting 1")
	hasNone(t, "first reminder", first.Text, "muộn")
	private := waitReminders(t, h, bobID, 1)
	if !strings.Contains(private.Text, "Bạn đã xác nhận tham dự") || len(private.ReplyMarkup) == 0 {
		t.Errorf("Bob's reminder: %q %+v", private.Text, private.ReplyMarkup)
	}
	waitFor(t, func() bool {
		_, body := h.get("/metrics")
		return strings.Contains(body, `committeebot_outbox_deliveries_total{outcome="refused"} 1`)
	}, func() string { _, b := h.get("/metrics"); return b })

	// Moved by a day: the 24-hour reminder of the old time never comes.
	ask(t, h, groupID, aliceID, "/meeting_edit 1 time 11/04/2024 14:00", "Đã sửa")
	advanceTo(clock, at(8, 14, 0)) // 72 hours before the new time
	if m := waitReminders(t, h, groupID, 2); !strings.Contains(m.Text, "11/04/2024") {
		t.Errorf("reminder after the move: %q", m.Text)
	}
	advanceTo(clock, at(9, 14, 0)) // the old 24-hour moment
	h.quiet(groupID)
	advanceTo(clock, at(10, 14, 0))
	waitReminders(t, h, groupID, 3)
	advanceTo(clock, at(11, 12, 0))
	if m := waitReminders(t, h, groupID, 4); !strings.Contains(m.Text, "còn 2 giờ") {
		t.Errorf("last reminder: %q", m.Text)
	}
	// The job reaches the group first and Bob after: wait for his too (the
	// bot can be quiet for a moment in between on a loaded machine: seen
	// once in twenty runs).
	waitReminders(t, h, bobID, 4)
	advanceTo(clock, at(12, 12, 0))
	h.quiet(groupID)
	for _, c := range []struct {
		chat int64
		want int
	}{{groupID, 4}, {bobID, 4}, {carolID, 0}, {daveID, 0}} {
		if got := count(h, c.chat, reminderMark); got != c.want {
			t.Errorf("chat %d got %d reminders, want %d", c.chat, got, c.want)
		}
	}
}

func TestCancelledMeetingRemindsNobody(t *testing.T) {
	t.Parallel()
	h, clock := meetingBot(t, nil)
	createConference(t, h)
	confirm := ask(t, h, groupID, aliceID, "/meeting_cancel 1", "Huỷ cuộc họp")
	press(t, h, groupID, aliceID, confirm, "🗑 Huỷ cuộc họp")
	waitMessage(t, h, bobID, "Cuộc họp đã bị huỷ")
	waitMessage(t, h, carolID, "Cuộc họp đã bị huỷ") // no answer counts as not declined
	for _, d := range []time.Time{at(7, 14, 0), at(9, 14, 0), at(10, 12, 0)} {
		advanceTo(clock, d)
		h.quiet(groupID)
	}
	for _, chat := range []int64{groupID, bobID, carolID} {
		if n := count(h, chat, reminderMark); n != 0 {
			t.Errorf("chat %d got %d reminders of a cancelled meeting", chat, n)
		}
	}
}

func TestReminderAfterDowntime(t *testing.T) {
	t.Parallel()
	h, clock := meetingBot(t, nil)
	createConference(t, h)

	// Down from before the 72-hour moment until after the 2-hour one:
	// one reminder, marked late (the earlier ones are not sent at all).
	h.shutdown()
	advanceTo(clock, at(10, 13, 0))
	h.start(app.WithClock(clock.Now), app.WithOutboxLimits(storage.OutboxLimits{}))
	late := waitReminders(t, h, groupID, 1)
	hasAll(t, "late reminder", late.Text, "gửi muộn", "lẽ ra lúc 12:00", "còn 1 giờ")

	// A meeting that began while the bot was down is not reminded.
	ask(t, h, groupID, aliceID, "/meeting_new 10/04/2024 20:00 | Họp tối | Hà Nội", "Họp tối")
	h.shutdown()
	advanceTo(clock, at(10, 20, 30))
	h.start(app.WithClock(clock.Now), app.WithOutboxLimits(storage.OutboxLimits{}))
	waitFor(t, func() bool { return strings.Contains(h.logs.String(), "reminder not sent: the meeting has begun") }, h.logs.String)
	h.quiet(groupID)
	if n := count(h, groupID, reminderMark); n != 1 {
		t.Errorf("%d reminders in the group, want only the late one", n)
	}
}

func TestBurstOfAnswersEditsTheAnnouncementWithinLimits(t *testing.T) {
	t.Parallel()
	h, clock := meetingBot(t, nil)
	const extra = 12
	var people []telegramtest.User
	for i := range extra {
		u := telegramtest.User{ID: int64(300 + i), FirstName: "Đại biểu " + strconv.Itoa(i)}
		addMember(t, h, []string{"TANDTC", "KTNN"}[i%2], u)
		h.tg.SetMemberStatus(groupID, u.ID, "member")
		people = append(people, u)
	}
	ann := createConference(t, h)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var queries []string
	for _, u := range people {
		wg.Go(func() {
			q := h.tg.PressButton(groupID, u.ID, ann.MessageID, "mr:1:1:1")
			mu.Lock()
			queries = append(queries, q)
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, q := range queries {
		h.waitAnswer(q)
	}
	edits := func() int {
		n := 0
		for _, r := range h.tg.Requests() {
			if r.Method == "editMessageText" && r.Params["message_id"] == strconv.Itoa(ann.MessageID) {
				n++
			}
		}
		return n
	}
	h.quiet(groupID)
	if n := edits(); n != 1 {
		t.Errorf("%d edits while the clock stood still, want 1", n)
	}
	clock.Advance(3 * time.Second)
	waitFor(t, func() bool {
		return strings.Contains(current(h, groupID, ann).Text, fmt.Sprintf("Tham dự: %d người, 2/2 đơn vị", extra))
	}, func() string { return current(h, groupID, ann).Text })
	// One edit at once and, unless that one already showed every answer
	// (the presses raced it), one when the slot freed: never one per press.
	if n := edits(); n < 1 || n > 2 {
		t.Errorf("%d edits for %d answers, want 1 or 2 (one at once, one when the slot freed)", n, extra)
	}
}
