package lifecycle_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/internal/logtest"
	"github.com/committeebot/committeebot/storage/redistest"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/storage"
)

// requestsOf counts the calls of method the stand-in received.
func requestsOf(h *apptest.Harness, method string) int {
	n := 0
	for _, r := range h.TG.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

// startWithTelegramDown starts the bot while Telegram answers getMe with
// 502, and waits until it asked at least n times.
func startWithTelegramDown(t *testing.T, n int) *apptest.Harness {
	t.Helper()
	h := apptest.StartBot(t, apptest.Options{NoApp: true, FreshProfile: true})
	h.TG.InjectFault("getMe", telegramtest.Fault{Status: http.StatusBadGateway, Times: -1})
	h.Start(app.WithOutboxLimits(storage.OutboxLimits{}), app.WithStartBackoff(5*time.Millisecond, 20*time.Millisecond))
	apptest.WaitFor(t, func() bool { return requestsOf(h, "getMe") >= n }, h.Logs.String)
	return h
}

// A Telegram outage at start does not stop the process: it serves
// /healthz and /metrics, says it is not ready, asks getMe again and again,
// and starts for real — commands, polling — once Telegram answers.
func TestTelegramOutageAtStartDelaysReadinessNotTheProcess(t *testing.T) {
	t.Parallel()
	// getMe is asked again after each failure, and the process serves.
	h := startWithTelegramDown(t, 3)
	if code, _ := h.Get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while Telegram is down at start, want 200", code)
	}
	if code, body := h.Get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "getMe") {
		t.Errorf("/readyz = %d %q before getMe answered, want 503 naming getMe", code, body)
	}
	if _, body := h.Get("/metrics"); !strings.Contains(body, "committeebot_telegram_up 0") {
		t.Error("/metrics does not say Telegram is down")
	}
	sent := h.TG.SendText(aliceID, aliceID, "/start")
	// Nothing that names the bot starts before it knows its name.
	for _, m := range []string{"getUpdates", "setMyCommands", "getMyCommands", "sendMessage"} {
		if n := requestsOf(h, m); n != 0 {
			t.Errorf("%d %s calls before getMe answered, want none", n, m)
		}
	}
	if !strings.Contains(h.Logs.String(), "Telegram does not answer getMe") {
		t.Error("the outage at start is not logged")
	}

	// Telegram comes back: the bot gets ready and answers what waited.
	h.TG.ClearFaults()
	h.WaitReady()
	if m := h.WaitReply(aliceID, sent.MessageID); !strings.Contains(m.Text, "Xin chào") {
		t.Errorf("the /start sent during the outage was answered %q", m.Text)
	}
	if h.App.BotUsername() != botName {
		t.Errorf("BotUsername = %q, want %q", h.App.BotUsername(), botName)
	}
	if len(h.TG.Commands("", "default")) == 0 {
		t.Error("no command menu was set once Telegram answered")
	}
	if _, body := h.Get("/metrics"); !strings.Contains(body, "committeebot_telegram_up 1") {
		t.Error("/metrics does not say Telegram is up again")
	}
}

// Once running, readiness depends on Redis alone (see
// TestTelegramOutageLeavesTheBotReady); before getMe answered, it is not
// ready even with Redis up, and a shutdown then is clean.
func TestShutdownWhileWaitingForTelegramIsClean(t *testing.T) {
	t.Parallel()
	h := startWithTelegramDown(t, 2)
	h.Shutdown() // fails the test unless Run returns nil promptly
}

// A token Telegram refuses is not retried: Run ends at once with an error
// saying so (the process exits 1 with it), without the token.
func TestRefusedTokenStopsTheBotWithAClearError(t *testing.T) {
	t.Parallel()
	const wrong = "42:WRONG-token"
	tg := telegramtest.New(telegramtest.WithBotUser(botName))
	t.Cleanup(tg.Close)
	logs := &logtest.Buffer{}
	cfg, _ := apptest.Config(t, tg, redistest.New(t), map[string]string{"COMMITTEEBOT_TELEGRAM_TOKEN": wrong})
	a, err := app.New(cfg, slog.New(slog.NewJSONHandler(logs, nil)), app.WithoutOps(),
		app.WithStartBackoff(time.Hour, time.Hour)) // a retry would hang the test
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if !errors.Is(err, bot.ErrTokenRejected) {
		t.Fatalf("Run = %v, want ErrTokenRejected", err)
	}
	for _, want := range []string{"rejected the bot token", "401", "telegram.token"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "WRONG") || strings.Contains(logs.String(), "WRONG") {
		t.Errorf("the token shows in the error or the logs: %v", err)
	}
	if n := len(tg.Requests()); n != 1 {
		t.Errorf("%d calls to Telegram, want the one getMe", n)
	}
}
