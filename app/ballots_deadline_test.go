package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/internal/clocktest"
	"github.com/committeebot/committeebot/storage"
)

// deadlineBot runs the bot on a test clock with a fast scheduler tick and
// the bloc of blocWithDelegates.
func deadlineBot(t *testing.T) (*harness, *testClock, []app.Option) {
	t.Helper()
	clock := clocktest.New(time.Date(2025, 1, 10, 2, 0, 0, 0, time.UTC))
	opts := []app.Option{app.WithClock(clock.Now), app.WithOutboxLimits(storage.OutboxLimits{})}
	h := delegatesBot(t, harnessOpts{env: map[string]string{"COMMITTEEBOT_REMINDERS_TICK": "20ms"}, appOpts: opts})
	return h, clock, opts
}

// countMessages is how many bot messages in chat begin with prefix.
func countMessages(h *harness, chat int64, prefix string) int {
	return h.countWhere(chat, func(text string) bool { return strings.HasPrefix(text, prefix) })
}

func TestDeadlineRemindsNonVotersThenClosesOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	h, clock, opts := deadlineBot(t)
	h.startReplica("second", opts...)
	h.startReplica("third", opts...)
	_, payload := openBallot(t, h, "/motion Thông qua quy chế? secret=yes deadline=2d")
	castVote(t, h, bobID, payload, "Tán thành")
	bobBefore := len(h.tg.BotMessages(bobID))

	// 24 hours before the deadline: Carol and Dave are reminded, once
	// each, by whichever replica claims the job; Bob, who voted, is not.
	clock.Advance(24*time.Hour + time.Minute)
	waitFor(t, func() bool {
		return countMessages(h, carolID, "⏰ Nhắc") == 1 && countMessages(h, daveID, "⏰ Nhắc") == 1
	})
	// The deadline passes: one replica closes it and posts the result.
	clock.Advance(24 * time.Hour)
	waitFor(t, func() bool { return countMessages(h, groupID, "📋") == 1 })
	h.quiet(groupID)
	time.Sleep(300 * time.Millisecond) // any duplicate from another replica would land now
	if n := countMessages(h, groupID, "📋"); n != 1 {
		t.Errorf("the result was posted %d times, want once", n)
	}
	if n := countMessages(h, carolID, "⏰ Nhắc") + countMessages(h, daveID, "⏰ Nhắc"); n != 2 {
		t.Errorf("%d reminders, want 2 (one each)", n)
	}
	for _, m := range h.tg.BotMessages(bobID)[bobBefore:] {
		if strings.HasPrefix(m.Text, "⏰") {
			t.Errorf("Bob, who voted, was reminded: %q", m.Text)
		}
	}
	// 1 of 3 voted: below the 2/3 quorum.
	for _, m := range h.tg.BotMessages(groupID) {
		if strings.HasPrefix(m.Text, "📋") && !strings.Contains(m.Text, "Không hợp lệ") {
			t.Errorf("result: %q", m.Text)
		}
	}
}

// A date of another year shows its year in lists; this year's does not.
func TestListsShowTheYearOfAnotherYearsDate(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2025, 12, 20, 2, 0, 0, 0, time.UTC))
	h, _, _ := ballotBot(t, harnessOpts{appOpts: []app.Option{app.WithClock(clock.Now), app.WithOutboxLimits(storage.OutboxLimits{})}}, "/motion Thông qua quy chế? deadline=5d")
	openBallot(t, h, "/motion Thông qua kế hoạch? deadline=30d")
	m := h.say(groupID, aliceID, "/ballots")
	hasAll(t, "/ballots, for a deadline in January 2026,", m.Text, "/01/2026")
	hasAll(t, "/ballots, for this year's deadline,", m.Text, "25/12")
	hasNone(t, "/ballots, for this year's deadline,", m.Text, "25/12/2025")
}
