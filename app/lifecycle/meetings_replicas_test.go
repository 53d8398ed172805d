package lifecycle_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/storage"
)

var meetingRef = regexp.MustCompile(`/meeting (\d+)`)

// remindersByMeeting counts the reminders in chat per meeting id.
func remindersByMeeting(h *apptest.Harness, chat int64) map[string]int {
	out := map[string]int{}
	for _, m := range h.TG.BotMessages(chat) {
		if !strings.Contains(m.Text, apptest.ReminderMark) {
			continue
		}
		if ref := meetingRef.FindStringSubmatch(m.Text); ref != nil {
			out[ref[1]]++
		}
	}
	return out
}

func TestThreeReplicasDeliverEveryReminderExactlyOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("50 meetings on three replicas")
	}
	// 150 reminders falling due at once on three replicas: enough for
	// every replica to race the others for most of them (200 took 7 s of
	// CPU under the race detector, up to 38 s in the full run, and proved
	// nothing more).
	const meetings = 50
	// Telegram's limits are not what this test is about: lift them so the
	// reminders go out at once.
	unlimited := app.WithOutboxLimits(storage.OutboxLimits{})
	h, clock := apptest.MeetingBot(t, map[string]string{"COMMITTEEBOT_REMINDERS_MEETING_OFFSETS": "2h"})
	for i := 1; i <= meetings; i++ {
		apptest.Ask(t, h, groupID, aliceID, fmt.Sprintf("/meeting_new 10/04/2024 14:00 | Họp số %d | Hà Nội", i), fmt.Sprintf("/meeting %d", i))
	}
	h.StartReplica("replica-b", app.WithClock(clock.Now), unlimited)
	h.StartReplica("replica-c", app.WithClock(clock.Now), unlimited)

	// All the reminders fall due in the same second, on every replica.
	apptest.AdvanceTo(clock, apptest.At(10, 12, 0))
	for _, chat := range []int64{groupID, bobID, carolID} {
		apptest.WaitFor(t, func() bool { return len(remindersByMeeting(h, chat)) == meetings }, h.Logs.String)
	}
	h.Quiet(groupID)
	var dup, missing []string
	for _, chat := range []int64{groupID, bobID, carolID} {
		got := remindersByMeeting(h, chat)
		for i := 1; i <= meetings; i++ {
			switch n := got[fmt.Sprint(i)]; {
			case n == 0:
				missing = append(missing, fmt.Sprintf("%d in chat %d", i, chat))
			case n > 1:
				dup = append(dup, fmt.Sprintf("%d×%d in chat %d", i, n, chat))
			}
		}
	}
	if len(dup) > 0 || len(missing) > 0 {
		t.Errorf("duplicates: %v; missing: %v", dup, missing)
	}
	// How the work was shared (for the report; any split is correct).
	logs := h.Logs.String()
	shares := map[string]int{}
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, "meeting messages sent") || !strings.Contains(line, `"kind":"meeting_remind"`) {
			continue
		}
		who := "replica-a"
		for _, r := range []string{"replica-b", "replica-c"} {
			if strings.Contains(line, `"replica":"`+r+`"`) {
				who = r
			}
		}
		shares[who]++
	}
	t.Logf("reminder jobs run per replica: %v", shares)
}

func TestKilledReplicasRemindersAreDeliveredAfterTheLease(t *testing.T) {
	if testing.Short() {
		t.Skip("starts bot processes")
	}
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{NoApp: true, Env: map[string]string{"COMMITTEEBOT_REMINDERS_TICK": "100ms", apptest.SchedLeaseEnv: "2s"}})
	setup := h.StartChild("set-up instance")
	apptest.BlocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước"}, []apptest.Seat{{User: bobID, Unit: "TANDTC"}, {User: carolID, Unit: "KTNN"}})
	if err := setup.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = setup.Wait()

	// Real time here (separate processes): a meeting whose only reminder
	// falls due six seconds from now.
	now := time.Now()
	start := now.Add(90 * time.Second).Truncate(time.Minute).Add(time.Minute)
	offset := start.Sub(now.Add(6 * time.Second)).Truncate(time.Second)
	h.Env["COMMITTEEBOT_REMINDERS_MEETING_OFFSETS"] = offset.String()
	first := h.StartChild("first instance")
	local := start.In(apptest.Hanoi)
	apptest.Ask(t, h, groupID, aliceID, "/meeting_new "+local.Format("02/01/2006 15:04")+" | Họp giao ban | Hà Nội", "Họp giao ban")

	// Two of the reminder's three messages hang inside Telegram: the
	// instance is killed while its outbox worker holds them, before
	// Telegram accepted them.
	h.TG.InjectFault("sendMessage", telegramtest.Fault{Delay: time.Minute, Times: 2})
	apptest.WaitFor(t, func() bool { return h.Hanging() == 2 }, h.Logs.String)
	// Kill it once the third message is recorded as delivered, outside
	// the window between Telegram's acceptance and the record (a kill
	// inside it would make that message a duplicate: the window the
	// design leaves).
	box := storage.NewOutbox(h.Redis.Client(), storage.NewKeys(h.Redis.Prefix()), storage.OutboxLimits{})
	apptest.WaitFor(t, func() bool {
		n, err := box.Pending(context.Background())
		return err == nil && n == 2
	}, h.Logs.String)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = first.Process.Wait()

	h.StartChild("second instance")
	chats := []int64{groupID, bobID, carolID}
	apptest.WaitFor(t, func() bool {
		for _, c := range chats {
			if apptest.Count(h, c, apptest.ReminderMark) == 0 {
				return false
			}
		}
		return true
	}, h.Logs.String)
	h.Quiet(groupID)
	dups := 0
	for _, c := range chats {
		if n := apptest.Count(h, c, apptest.ReminderMark); n > 1 {
			dups += n - 1
		}
	}
	uncertain := strings.Count(h.Logs.String(), "outgoing message taken over from a worker that stopped")
	t.Logf("after SIGKILL: duplicates %d, messages in flight at the kill (sent again) %d", dups, uncertain)
	if dups != 0 {
		t.Errorf("%d duplicate reminders; the messages in flight at the kill never reached Telegram, so none are expected", dups)
	}
	if uncertain != 2 {
		t.Errorf("%d messages were taken over from the killed instance, want the 2 that hung", uncertain)
	}
}
