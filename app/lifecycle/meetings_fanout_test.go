package lifecycle_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/internal/clocktest"
)

// TestReminderToAHundredDelegatesKeepsTelegramsLimits sends one reminder
// to 100 delegates through the real sender against a stand-in that
// enforces Telegram's flood limits (30 messages a second overall, 1 a
// second per chat): no request may be refused with 429, and since the
// fan-out sends concurrently it takes about (101-30)/30 = 2.4 seconds
// after the first burst, not one round trip after another, nor 100 (one a
// second). A hundred is three times the burst Telegram allows, so the
// pacing shows; the bench (loadtest) fans out a thousand. The duration is
// reported, not asserted beyond the lower bound the limits guarantee.
func TestReminderToAHundredDelegatesKeepsTelegramsLimits(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("takes seconds of real time")
	}
	const delegates = 100
	clock := clocktest.New(apptest.MeetingClockStart)
	h := apptest.StartBot(t, apptest.Options{
		TGOpts:         []telegramtest.Option{telegramtest.WithRateLimits(true)},
		Env:            map[string]string{"COMMITTEEBOT_REMINDERS_TICK": "20ms", "COMMITTEEBOT_REMINDERS_MEETING_OFFSETS": "2h"},
		AppOpts:        []app.Option{app.WithClock(clock.Now)},
		TelegramLimits: true,
	})
	apptest.SetupBloc(t, h, "TANDTC Tòa án nhân dân tối cao")
	for i := range delegates {
		u := telegramtest.User{ID: int64(10_000 + i), FirstName: "Đại biểu " + strconv.Itoa(i)}
		apptest.AddMember(t, h, "TANDTC", u)
	}
	apptest.CreateConference(t, h)
	h.Quiet(groupID)
	before := len(h.TG.Requests())

	apptest.AdvanceTo(clock, apptest.At(10, 12, 0))
	began := time.Now()
	apptest.WaitFor(t, func() bool {
		return apptest.Count(h, 10_000+delegates-1, apptest.ReminderMark) == 1 && apptest.Count(h, 10_000, apptest.ReminderMark) == 1
	}, h.Logs.String)
	for i := range delegates {
		id := int64(10_000 + i)
		apptest.WaitFor(t, func() bool { return apptest.Count(h, id, apptest.ReminderMark) >= 1 })
	}
	took := time.Since(began)
	h.Quiet(groupID)

	sends, refused := 0, 0
	for _, r := range h.TG.Requests()[before:] {
		if r.Method != "sendMessage" {
			continue
		}
		sends++
		if r.Status == 429 {
			refused++
		}
	}
	for i := range delegates {
		if n := apptest.Count(h, int64(10_000+i), apptest.ReminderMark); n != 1 {
			t.Errorf("delegate %d got %d reminders", i, n)
		}
	}
	if n := apptest.Count(h, groupID, apptest.ReminderMark); n != 1 {
		t.Errorf("the group got %d reminders", n)
	}
	// The sender paces at exactly Telegram's rate, so arrival jitter may
	// earn the odd 429 at the end of the first burst; it is waited out
	// (retry_after) and the message sent once. More would mean the limits
	// were not kept.
	if refused > 2 {
		t.Errorf("Telegram refused %d of %d sends with 429: the limits were not kept", refused, sends)
	}
	floor := time.Duration(delegates+1-30) * time.Second / 30
	t.Logf("%d reminders sent in %v, %d refused with 429 and waited out (Telegram's limits allow no less than %v)",
		sends-refused, took.Round(100*time.Millisecond), refused, floor)
	if took < floor-floor/10 {
		t.Errorf("%d messages in %v: faster than 30 a second", sends, took)
	}
	apptest.HasAll(t, "the logs of the job", h.Logs.String(), `"sent":101`)
}
