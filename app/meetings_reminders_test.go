package app_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/storage"
)

func TestRemindersFollowTheMeetingAndSkipWhoDeclined(t *testing.T) {
	t.Parallel()
	h, clock := apptest.MeetingBot(t, nil)
	// Dave, a second KTNN delegate, blocks the bot: he is skipped and
	// counted, not an error.
	apptest.AddDelegate(t, h, "1", "KTNN", telegramtest.User{ID: daveID, FirstName: "Dave", Username: "dave"})
	h.TG.BlockBot(daveID)
	apptest.CreateConference(t, h)
	h.Say(bobID, bobID, "/rsvp 1 yes")
	h.Say(carolID, carolID, "/rsvp 1 no")

	apptest.AdvanceTo(clock, apptest.At(7, 14, 0)) // 72 hours before
	first := apptest.WaitReminders(t, h, groupID, 1)
	apptest.HasAll(t, "first reminder", first.Text, "còn 3 ngày", "/meeting 1")
	apptest.HasNone(t, "first reminder", first.Text, "muộn")
	private := apptest.WaitReminders(t, h, bobID, 1)
	if !strings.Contains(private.Text, "Bạn đã xác nhận tham dự") || len(private.ReplyMarkup) == 0 {
		t.Errorf("Bob's reminder: %q %+v", private.Text, private.ReplyMarkup)
	}
	apptest.WaitFor(t, func() bool {
		_, body := h.Get("/metrics")
		return strings.Contains(body, `committeebot_outbox_deliveries_total{outcome="refused"} 1`)
	}, func() string { _, b := h.Get("/metrics"); return b })

	// Moved by a day: the 24-hour reminder of the old time never comes.
	apptest.Ask(t, h, groupID, aliceID, "/meeting_edit 1 time 11/04/2024 14:00", "Đã sửa")
	apptest.AdvanceTo(clock, apptest.At(8, 14, 0)) // 72 hours before the new time
	if m := apptest.WaitReminders(t, h, groupID, 2); !strings.Contains(m.Text, "11/04/2024") {
		t.Errorf("reminder after the move: %q", m.Text)
	}
	apptest.AdvanceTo(clock, apptest.At(9, 14, 0)) // the old 24-hour moment
	h.Quiet(groupID)
	apptest.AdvanceTo(clock, apptest.At(10, 14, 0))
	apptest.WaitReminders(t, h, groupID, 3)
	apptest.AdvanceTo(clock, apptest.At(11, 12, 0))
	if m := apptest.WaitReminders(t, h, groupID, 4); !strings.Contains(m.Text, "còn 2 giờ") {
		t.Errorf("last reminder: %q", m.Text)
	}
	// The job reaches the group first and Bob after: wait for his too (the
	// bot can be quiet for a moment in between on a loaded machine: seen
	// once in twenty runs).
	apptest.WaitReminders(t, h, bobID, 4)
	apptest.AdvanceTo(clock, apptest.At(12, 12, 0))
	h.Quiet(groupID)
	for _, c := range []struct {
		chat int64
		want int
	}{{groupID, 4}, {bobID, 4}, {carolID, 0}, {daveID, 0}} {
		if got := apptest.Count(h, c.chat, apptest.ReminderMark); got != c.want {
			t.Errorf("chat %d got %d reminders, want %d", c.chat, got, c.want)
		}
	}
}

func TestCancelledMeetingRemindsNobody(t *testing.T) {
	t.Parallel()
	h, clock := apptest.MeetingBot(t, nil)
	apptest.CreateConference(t, h)
	confirm := apptest.Ask(t, h, groupID, aliceID, "/meeting_cancel 1", "Huỷ cuộc họp")
	apptest.Press(t, h, groupID, aliceID, confirm, "🗑 Huỷ cuộc họp")
	waitMessage(t, h, bobID, "Cuộc họp đã bị huỷ")
	waitMessage(t, h, carolID, "Cuộc họp đã bị huỷ") // no answer counts as not declined
	for _, d := range []time.Time{apptest.At(7, 14, 0), apptest.At(9, 14, 0), apptest.At(10, 12, 0)} {
		apptest.AdvanceTo(clock, d)
		h.Quiet(groupID)
	}
	for _, chat := range []int64{groupID, bobID, carolID} {
		if n := apptest.Count(h, chat, apptest.ReminderMark); n != 0 {
			t.Errorf("chat %d got %d reminders of a cancelled meeting", chat, n)
		}
	}
}

func TestReminderAfterDowntime(t *testing.T) {
	t.Parallel()
	h, clock := apptest.MeetingBot(t, nil)
	apptest.CreateConference(t, h)

	// Down from before the 72-hour moment until after the 2-hour one:
	// one reminder, marked late (the earlier ones are not sent at all).
	h.Shutdown()
	apptest.AdvanceTo(clock, apptest.At(10, 13, 0))
	h.Start(app.WithClock(clock.Now), app.WithOutboxLimits(storage.OutboxLimits{}))
	late := apptest.WaitReminders(t, h, groupID, 1)
	apptest.HasAll(t, "late reminder", late.Text, "gửi muộn", "lẽ ra lúc 12:00", "còn 1 giờ")

	// A meeting that began while the bot was down is not reminded.
	apptest.Ask(t, h, groupID, aliceID, "/meeting_new 10/04/2024 20:00 | Họp tối | Hà Nội", "Họp tối")
	h.Shutdown()
	apptest.AdvanceTo(clock, apptest.At(10, 20, 30))
	h.Start(app.WithClock(clock.Now), app.WithOutboxLimits(storage.OutboxLimits{}))
	apptest.WaitFor(t, func() bool { return strings.Contains(h.Logs.String(), "reminder not sent: the meeting has begun") }, h.Logs.String)
	h.Quiet(groupID)
	if n := apptest.Count(h, groupID, apptest.ReminderMark); n != 1 {
		t.Errorf("%d reminders in the group, want only the late one", n)
	}
}

func TestBurstOfAnswersEditsTheAnnouncementWithinLimits(t *testing.T) {
	t.Parallel()
	h, clock := apptest.MeetingBot(t, nil)
	const extra = 12
	var people []telegramtest.User
	for i := range extra {
		u := telegramtest.User{ID: int64(300 + i), FirstName: "Đại biểu " + strconv.Itoa(i)}
		apptest.AddMember(t, h, []string{"TANDTC", "KTNN"}[i%2], u)
		h.TG.SetMemberStatus(groupID, u.ID, "member")
		people = append(people, u)
	}
	ann := apptest.CreateConference(t, h)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var queries []string
	for _, u := range people {
		wg.Go(func() {
			q := h.TG.PressButton(groupID, u.ID, ann.MessageID, "mr:1:1:1")
			mu.Lock()
			queries = append(queries, q)
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, q := range queries {
		h.WaitAnswer(q)
	}
	edits := func() int {
		n := 0
		for _, r := range h.TG.Requests() {
			if r.Method == "editMessageText" && r.Params["message_id"] == strconv.Itoa(ann.MessageID) {
				n++
			}
		}
		return n
	}
	h.Quiet(groupID)
	if n := edits(); n != 1 {
		t.Errorf("%d edits while the clock stood still, want 1", n)
	}
	clock.Advance(3 * time.Second)
	apptest.WaitFor(t, func() bool {
		return strings.Contains(apptest.Current(h, groupID, ann).Text, fmt.Sprintf("Tham dự: %d người, 2/2 đơn vị", extra))
	}, func() string { return apptest.Current(h, groupID, ann).Text })
	// One edit at once and, unless that one already showed every answer
	// (the presses raced it), one when the slot freed: never one per press.
	if n := edits(); n < 1 || n > 2 {
		t.Errorf("%d edits for %d answers, want 1 or 2 (one at once, one when the slot freed)", n, extra)
	}
}
