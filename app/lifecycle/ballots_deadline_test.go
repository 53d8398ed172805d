package lifecycle_test

import (
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/internal/clocktest"
	"github.com/committeebot/committeebot/storage"
)

// deadlineBot runs the bot on a test clock with a fast scheduler tick and
// the bloc of BlocWithDelegates.
func deadlineBot(t *testing.T) (*apptest.Harness, *apptest.Clock, []app.Option) {
	t.Helper()
	clock := clocktest.New(time.Date(2025, 1, 10, 2, 0, 0, 0, time.UTC))
	opts := []app.Option{app.WithClock(clock.Now), app.WithOutboxLimits(storage.OutboxLimits{})}
	h := apptest.DelegatesBot(t, apptest.Options{Env: map[string]string{"COMMITTEEBOT_REMINDERS_TICK": "20ms"}, AppOpts: opts})
	return h, clock, opts
}

func TestDeadlineRemindsNonVotersThenClosesOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	h, clock, opts := deadlineBot(t)
	h.StartReplica("second", opts...)
	h.StartReplica("third", opts...)
	_, payload := apptest.OpenBallot(t, h, "/motion Thông qua quy chế? secret=yes deadline=2d")
	apptest.CastVote(t, h, bobID, payload, "Tán thành")
	bobBefore := len(h.TG.BotMessages(bobID))

	// 24 hours before the deadline: Carol and Dave are reminded, once
	// each, by whichever replica claims the job; Bob, who voted, is not.
	clock.Advance(24*time.Hour + time.Minute)
	apptest.WaitFor(t, func() bool {
		return apptest.CountMessages(h, carolID, "⏰ Nhắc") == 1 && apptest.CountMessages(h, daveID, "⏰ Nhắc") == 1
	})
	// The deadline passes: one replica closes it and posts the result.
	clock.Advance(24 * time.Hour)
	apptest.WaitFor(t, func() bool { return apptest.CountMessages(h, groupID, "📋") == 1 })
	h.Quiet(groupID)
	time.Sleep(300 * time.Millisecond) // any duplicate from another replica would land now
	if n := apptest.CountMessages(h, groupID, "📋"); n != 1 {
		t.Errorf("the result was posted %d times, want once", n)
	}
	if n := apptest.CountMessages(h, carolID, "⏰ Nhắc") + apptest.CountMessages(h, daveID, "⏰ Nhắc"); n != 2 {
		t.Errorf("%d reminders, want 2 (one each)", n)
	}
	for _, m := range h.TG.BotMessages(bobID)[bobBefore:] {
		if strings.HasPrefix(m.Text, "⏰") {
			t.Errorf("Bob, who voted, was reminded: %q", m.Text)
		}
	}
	// 1 of 3 voted: below the 2/3 quorum.
	for _, m := range h.TG.BotMessages(groupID) {
		if strings.HasPrefix(m.Text, "📋") && !strings.Contains(m.Text, "Không hợp lệ") {
			t.Errorf("result: %q", m.Text)
		}
	}
}

// A date of another year shows its year in lists; this year's does not.
func TestListsShowTheYearOfAnotherYearsDate(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2025, 12, 20, 2, 0, 0, 0, time.UTC))
	h, _, _ := apptest.BallotBot(t, apptest.Options{AppOpts: []app.Option{app.WithClock(clock.Now), app.WithOutboxLimits(storage.OutboxLimits{})}}, "/motion Thông qua quy chế? deadline=5d")
	apptest.OpenBallot(t, h, "/motion Thông qua kế hoạch? deadline=30d")
	m := h.Say(groupID, aliceID, "/ballots")
	apptest.HasAll(t, "/ballots, for a deadline in January 2026,", m.Text, "/01/2026")
	apptest.HasAll(t, "/ballots, for this year's deadline,", m.Text, "25/12")
	apptest.HasNone(t, "/ballots, for this year's deadline,", m.Text, "25/12/2025")
}
