package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/storage"
)

// replica is an App started by startReplica.
type replica struct {
	name string
	app  *app.App
	// stop shuts it down as SIGTERM would and checks that it stopped
	// cleanly; the test's clean-up calls it too (only the first call
	// acts).
	stop func()
}

// startReplica runs one more App on the harness's Redis and stand-in, as
// another replica of the bot would. Its log lines carry its name.
func (h *harness) startReplica(name string, opts ...app.Option) *replica {
	h.t.Helper()
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("replica", name)
	a, err := app.New(h.cfg, log, append([]app.Option{app.WithoutOps(), app.WithInstanceID(name), h.chartDelay()}, opts...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	r := &replica{name: name, app: a, stop: func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					h.t.Errorf("replica %s: Run returned %v", name, err)
				}
			case <-time.After(30 * time.Second):
				h.t.Errorf("replica %s did not shut down", name)
			}
		})
	}}
	h.t.Cleanup(r.stop)
	return r
}

var meetingRef = regexp.MustCompile(`/meeting (\d+)`)

// remindersByMeeting counts the reminders in chat per meeting id.
func remindersByMeeting(h *harness, chat int64) map[string]int {
	out := map[string]int{}
	for _, m := range h.tg.BotMessages(chat) {
		if !strings.Contains(m.Text, reminderMark) {
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
	h, clock := meetingBot(t, map[string]string{"COMMITTEEBOT_REMINDERS_MEETING_OFFSETS": "2h"})
	for i := 1; i <= meetings; i++ {
		ask(t, h, groupID, aliceID, fmt.Sprintf("/meeting_new 10/04/2024 14:00 | Họp số %d | Hà Nội", i), fmt.Sprintf("/meeting %d", i))
	}
	h.startReplica("replica-b", app.WithClock(clock.Now), unlimited)
	h.startReplica("replica-c", app.WithClock(clock.Now), unlimited)

	// All the reminders fall due in the same second, on every replica.
	advanceTo(clock, at(10, 12, 0))
	for _, chat := range []int64{groupID, bobID, carolID} {
		waitFor(t, func() bool { return len(remindersByMeeting(h, chat)) == meetings }, h.logs.String)
	}
	h.quiet(groupID)
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
	logs := h.logs.String()
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
	h := startBot(t, harnessOpts{noApp: true, env: map[string]string{"COMMITTEEBOT_REMINDERS_TICK": "100ms", schedLeaseEnv: "2s"}})
	setup := h.startChild("set-up instance")
	blocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước"}, []seat{{bobID, "TANDTC"}, {carolID, "KTNN"}})
	if err := setup.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = setup.Wait()

	// Real time here (separate processes): a meeting whose only reminder
	// falls due six seconds from now.
	now := time.Now()
	start := now.Add(90 * time.Second).Truncate(time.Minute).Add(time.Minute)
	offset := start.Sub(now.Add(6 * time.Second)).Truncate(time.Second)
	h.env["COMMITTEEBOT_REMINDERS_MEETING_OFFSETS"] = offset.String()
	first := h.startChild("first instance")
	local := start.In(hanoi)
	ask(t, h, groupID, aliceID, "/meeting_new "+local.Format("02/01/2006 15:04")+" | Họp giao ban | Hà Nội", "Họp giao ban")

	// Two of the reminder's three messages hang inside Telegram: the
	// instance is killed while its outbox worker holds them, before
	// Telegram accepted them.
	h.tg.InjectFault("sendMessage", telegramtest.Fault{Delay: time.Minute, Times: 2})
	waitFor(t, func() bool { return h.hanging() == 2 }, h.logs.String)
	// Kill it once the third message is recorded as delivered, outside
	// the window between Telegram's acceptance and the record (a kill
	// inside it would make that message a duplicate: the window the
	// design leaves).
	box := storage.NewOutbox(h.rd.Client(), storage.NewKeys(h.rd.Prefix()), storage.OutboxLimits{})
	waitFor(t, func() bool {
		n, err := box.Pending(context.Background())
		return err == nil && n == 2
	}, h.logs.String)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = first.Process.Wait()

	h.startChild("second instance")
	chats := []int64{groupID, bobID, carolID}
	waitFor(t, func() bool {
		for _, c := range chats {
			if count(h, c, reminderMark) == 0 {
				return false
			}
		}
		return true
	}, h.logs.String)
	h.quiet(groupID)
	dups := 0
	for _, c := range chats {
		if n := count(h, c, reminderMark); n > 1 {
			dups += n - 1
		}
	}
	uncertain := strings.Count(h.logs.String(), "outgoing message taken over from a worker that stopped")
	t.Logf("after SIGKILL: duplicates %d, messages in flight at the kill (sent again) %d", dups, uncertain)
	if dups != 0 {
		t.Errorf("%d duplicate reminders; the messages in flight at the kill never reached Telegram, so none are expected", dups)
	}
	if uncertain != 2 {
		t.Errorf("%d messages were taken over from the killed instance, want the 2 that hung", uncertain)
	}
}
