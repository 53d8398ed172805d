package lifecycle_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/storage"
)

// The tests below give the shutdown a budget of 1 s and work that would
// hold it for far longer: a call Telegram does not answer holds its caller
// until the HTTP client's timeout (the poll timeout plus 15 s, 17 s here).
// They assert that the shutdown ends well within that — under
// shutdownLimit, generous for a loaded machine, and log the figure — and
// that nothing cut short is lost.
const (
	shutdownBudget = "1s"
	shutdownLimit  = 10 * time.Second
)

// stopMeasured stops the App as SIGTERM would and returns how long Run
// took to return; Run must return nil, a budget spent included.
func stopMeasured(t *testing.T, h *apptest.Harness) time.Duration {
	t.Helper()
	took, returned, err := h.StopRun(60 * time.Second)
	if !returned {
		t.Fatal("the bot did not shut down")
	}
	if err != nil {
		t.Errorf("Run returned %v, want nil: a shutdown cut short by its budget is still clean", err)
	}
	return took
}

// hangSetup sends /setup in the group and waits until its handler waits
// for Telegram: /setup asks whether Alice administers the group
// (getChatMember), and Telegram holds the answer.
func hangSetup(t *testing.T, h *apptest.Harness) telegramtest.Message {
	t.Helper()
	h.TG.InjectFault("getChatMember", telegramtest.Fault{Delay: time.Minute})
	sent := h.TG.SendText(groupID, aliceID, "/setup Khối thi đua Nội chính")
	apptest.WaitFor(t, func() bool { return h.TG.InFlight("getChatMember") == 1 }, h.Logs.String)
	return sent
}

// checkShutdownTook logs how long a shutdown took, fails the test past
// shutdownLimit, and checks that the logs say what was cut short.
func checkShutdownTook(t *testing.T, h *apptest.Harness, what string, took time.Duration, logsSay ...string) {
	t.Helper()
	t.Logf("%s took %s (budget %s)", what, took.Round(time.Millisecond), shutdownBudget)
	if took > shutdownLimit {
		t.Errorf("%s took %s with a budget of %s", what, took, shutdownBudget)
	}
	logs := h.Logs.String()
	for _, want := range logsSay {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs do not say %q", want)
		}
	}
}

// A webhook delivery whose handler waits for Telegram (a getChatMember
// never answered) cannot hold the shutdown past its budget: Run returns
// once the budget is spent, with the delivery cut off unanswered. Telegram
// therefore delivers the update again, and the next instance handles it
// once its claim ran out — exactly once.
func TestWebhookShutdownKeepsToItsBudgetAndTheUpdateComesAgain(t *testing.T) {
	t.Parallel()
	l := apptest.Listen(t)
	addr := l.Addr().String()
	// A claim lease of 3 s, so that the next instance takes the update
	// over soon after the first was cut off.
	timeouts := app.WithUpdateTimeouts(2*time.Second, 3*time.Second)
	h := apptest.StartBot(t, apptest.Options{
		Env: map[string]string{
			"COMMITTEEBOT_TELEGRAM_MODE":                 "webhook",
			"COMMITTEEBOT_TELEGRAM_WEBHOOK_URL":          "https://bot.example.org/hook",
			"COMMITTEEBOT_TELEGRAM_WEBHOOK_LISTEN":       addr,
			"COMMITTEEBOT_TELEGRAM_WEBHOOK_SECRET_TOKEN": "s3cret_token-1",
			"COMMITTEEBOT_SHUTDOWN_TIMEOUT":              shutdownBudget,
		},
		AppOpts: []app.Option{timeouts, app.WithWebhookListener(l)},
	})
	apptest.WaitFor(t, func() bool { return h.TG.WebhookURL() != "" })
	h.TG.RedirectWebhook("http://" + addr + "/hook")

	sent := hangSetup(t, h)
	checkShutdownTook(t, h, "the shutdown with a webhook delivery in hand", stopMeasured(t, h),
		"webhook deliveries cut short", "not waited for")
	if n := h.TG.PendingUpdates(); n != 1 {
		t.Errorf("%d updates wait at Telegram, want the one cut off (never answered)", n)
	}

	// The next instance listens on a port of its own: the first one's,
	// free since the shutdown, may meanwhile be taken by any of the
	// parallel tests' connections (seen once in twenty runs: "bind:
	// address already in use").
	l = apptest.Listen(t)
	addr = l.Addr().String()
	h.Cfg.Telegram.Webhook.Listen = addr
	h.TG.RedirectWebhook("http://" + addr + "/hook")
	h.Start(timeouts, app.WithWebhookListener(l), app.WithOutboxLimits(storage.OutboxLimits{}))
	h.WaitReady()
	// In this process the first instance's handler is still stuck in its
	// Telegram call, holding the update's claim, until its HTTP client
	// gives up (poll timeout + 15 s); a process that exited would hold
	// nothing. So the wait is longer than WaitReply's.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := h.TG.WaitBotMessage(ctx, groupID, func(m telegramtest.Message) bool { return m.MessageID > sent.MessageID })
	if err != nil {
		t.Fatalf("the update cut off was not handled again: %v", err)
	}
	apptest.HasAll(t, "the answer to the update delivered again", m.Text, "Đã lập khối")
	h.Quiet(groupID)
	if n := apptest.CountMessages(h, groupID, "✅ Đã lập khối"); n != 1 {
		t.Errorf("the bloc was announced %d times, want once", n)
	}
}

// SIGTERM to the bot process while a handler waits for Telegram and a
// reply's send hangs there: the process exits with status 0 once the
// budget is spent, saying what it cut short. The reply is still queued in
// Redis and the update, never confirmed, comes again: the next instance
// delivers the one and handles the other, each exactly once.
func TestSIGTERMKeepsToTheBudgetAndLosesNothing(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts bot processes")
	}
	h := apptest.StartBot(t, apptest.Options{NoApp: true, Env: map[string]string{"COMMITTEEBOT_SHUTDOWN_TIMEOUT": shutdownBudget}})
	box := storage.NewOutbox(h.Redis.Client(), storage.NewKeys(h.Redis.Prefix()), storage.OutboxLimits{})

	first := h.StartChild("first instance")
	// The reply to /start hangs inside Telegram…
	h.TG.InjectFault("sendMessage", telegramtest.Fault{Delay: time.Minute})
	start := h.TG.SendText(aliceID, aliceID, "/start")
	apptest.WaitFor(t, func() bool { return h.TG.InFlight("sendMessage") == 1 }, h.Logs.String)
	// …and /setup waits for Telegram's getChatMember.
	setup := hangSetup(t, h)

	began := time.Now()
	if err := first.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := first.Wait()
	// A binary built with -race sleeps 1 s at exit (GORACE atexit_sleep_ms).
	checkShutdownTook(t, h, "SIGTERM to exit with a handler and a send in hand", time.Since(began),
		"update handlers cut short", "cut short: update handlers; not waited for: ")
	if err != nil {
		t.Errorf("after SIGTERM the bot exited with %v, want status 0", err)
	}
	if n, err := box.Pending(context.Background()); err != nil || n != 1 {
		t.Errorf("the outbox holds %d messages (%v), want the reply whose send was cut short", n, err)
	}
	if n := len(h.TG.BotMessages(aliceID)); n != 0 {
		t.Fatalf("Alice has %d replies, want none yet (the send hung)", n)
	}

	second := h.StartChild("second instance")
	h.WaitReply(aliceID, start.MessageID)
	if m := h.WaitReply(groupID, setup.MessageID); !strings.Contains(m.Text, "Đã lập khối") {
		t.Errorf("the update handled again was answered %q", m.Text)
	}
	h.Quiet(groupID)
	if n := len(h.TG.BotMessages(aliceID)); n != 1 {
		t.Errorf("Alice got %d replies to one /start, want exactly 1", n)
	}
	if n := apptest.CountMessages(h, groupID, "✅ Đã lập khối"); n != 1 {
		t.Errorf("the bloc was announced %d times, want once", n)
	}
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Errorf("after SIGTERM the second instance exited with %v, want status 0", err)
	}
}
