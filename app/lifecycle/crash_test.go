package lifecycle_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/storage"
)

func TestKilledBotsUpdatesAreHandledExactlyOnceAfterRestart(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts bot processes")
	}
	h := apptest.StartBot(t, apptest.Options{NoApp: true})
	users := []int64{aliceID, bobID, adminID}
	const perUser = 4

	// The first few replies hang inside Telegram: the bot is killed while
	// it holds their updates' claims, before Telegram accepted them.
	h.TG.InjectFault("sendMessage", telegramtest.Fault{Delay: time.Minute, Times: 2})
	first := h.StartChild("first instance")
	for i := 0; i < perUser; i++ {
		for _, u := range users {
			h.TG.SendText(u, u, "/start")
		}
	}
	// Two chats' first replies hang; the third chat's four are delivered.
	apptest.WaitFor(t, func() bool { return h.Hanging() == 2 && h.Replied() == perUser }, h.Logs.String)
	// Kill it once every delivered reply is also recorded as delivered:
	// a kill between Telegram accepting a message and its record would
	// repeat that message (the window the design leaves).
	box := storage.NewOutbox(h.Redis.Client(), storage.NewKeys(h.Redis.Prefix()), storage.OutboxLimits{})
	apptest.WaitFor(t, func() bool {
		n, err := box.Pending(context.Background())
		return err == nil && n == 2*perUser
	}, h.Logs.String)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = first.Process.Wait()

	second := h.StartChild("second instance")
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && !h.AllReplied(users, perUser) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // any duplicate would arrive now
	for _, u := range users {
		if got := len(h.TG.BotMessages(u)); got != perUser {
			t.Errorf("user %d got %d replies to %d commands, want exactly %d", u, got, perUser, perUser)
		}
	}

	// SIGTERM: a clean shutdown, exit status 0.
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Errorf("after SIGTERM the bot exited with %v, want status 0", err)
	}
}
