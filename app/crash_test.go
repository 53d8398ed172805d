package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/config"
	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/scheduler"
	"github.com/committeebot/committeebot/storage"
)

const childEnv = "COMMITTEEBOT_TEST_CHILD"

// schedLeaseEnv sets the child's scheduler lease (meetings_replicas_test.go).
const schedLeaseEnv = "COMMITTEEBOT_TEST_SCHED_LEASE"

// outboxRateEnv sets the child's global send limit, messages a second
// (outbox_test.go), to keep a large fan-out short.
const outboxRateEnv = "COMMITTEEBOT_TEST_OUTBOX_RATE"

// runChild is the bot process of the crash test: the production App,
// configured from the environment, with short update leases so a crashed
// instance's updates are taken over within seconds.
func runChild() int {
	cfg, err := config.Load("", os.Getenv)
	if err == nil {
		err = cfg.Validate(config.CommandServe)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	// Short leases, so a killed instance's updates, messages in flight
	// and polling are taken over within seconds.
	opts := []app.Option{app.WithoutOps(), app.WithUpdateTimeouts(5*time.Second, 6*time.Second),
		app.WithOutboxOptions(outbox.WithLease(3 * time.Second)), app.WithPollLease(2*time.Second, 300*time.Millisecond)}
	if d, err := time.ParseDuration(os.Getenv(schedLeaseEnv)); err == nil {
		// Test-only: a short scheduler lease, so that a killed instance's
		// reminders are taken over within seconds.
		opts = append(opts, app.WithSchedulerOptions(scheduler.WithLease(d)))
	}
	if n, err := strconv.Atoi(os.Getenv(outboxRateEnv)); err == nil {
		opts = append(opts, app.WithOutboxLimits(storage.OutboxLimits{GlobalMax: n, GlobalWindow: time.Second}))
	}
	if id := os.Getenv("COMMITTEEBOT_TEST_INSTANCE"); id != "" {
		opts = append(opts, app.WithInstanceID(id))
	}
	a, err := app.New(cfg, log, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startChild starts the bot as a separate process sharing the harness's
// Redis and stand-in.
func (h *harness) startChild(name string) *exec.Cmd {
	h.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	for _, k := range config.Keys() {
		if v := h.env[config.EnvVar(k)]; v != "" {
			cmd.Env = append(cmd.Env, config.EnvVar(k)+"="+v)
		}
	}
	// Test-only knobs of the child (see runChild), per harness so that
	// tests starting children can run in parallel.
	for k, v := range h.env {
		if strings.HasPrefix(k, "COMMITTEEBOT_TEST_") {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stdout = h.logs
	cmd.Stderr = h.logs
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("starting %s: %v", name, err)
	}
	h.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	})
	return cmd
}

func TestKilledBotsUpdatesAreHandledExactlyOnceAfterRestart(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts bot processes")
	}
	h := startBot(t, harnessOpts{noApp: true})
	users := []int64{aliceID, bobID, adminID}
	const perUser = 4

	// The first few replies hang inside Telegram: the bot is killed while
	// it holds their updates' claims, before Telegram accepted them.
	h.tg.InjectFault("sendMessage", telegramtest.Fault{Delay: time.Minute, Times: 2})
	first := h.startChild("first instance")
	for i := 0; i < perUser; i++ {
		for _, u := range users {
			h.tg.SendText(u, u, "/start")
		}
	}
	// Two chats' first replies hang; the third chat's four are delivered.
	waitFor(t, func() bool { return h.hanging() == 2 && h.replied() == perUser }, h.logs.String)
	// Kill it once every delivered reply is also recorded as delivered:
	// a kill between Telegram accepting a message and its record would
	// repeat that message (the window the design leaves).
	box := storage.NewOutbox(h.rd.Client(), storage.NewKeys(h.rd.Prefix()), storage.OutboxLimits{})
	waitFor(t, func() bool {
		n, err := box.Pending(context.Background())
		return err == nil && n == 2*perUser
	}, h.logs.String)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = first.Process.Wait()

	second := h.startChild("second instance")
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && !h.allReplied(users, perUser) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // any duplicate would arrive now
	for _, u := range users {
		if got := len(h.tg.BotMessages(u)); got != perUser {
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

// hanging counts sendMessage calls the stand-in is holding.
func (h *harness) hanging() int {
	return h.tg.InFlight("sendMessage")
}

// replied counts the bot's messages in the test users' private chats.
func (h *harness) replied() int {
	n := 0
	for _, u := range []int64{aliceID, bobID, adminID} {
		n += len(h.tg.BotMessages(u))
	}
	return n
}

func (h *harness) allReplied(users []int64, n int) bool {
	for _, u := range users {
		if len(h.tg.BotMessages(u)) < n {
			return false
		}
	}
	return true
}
