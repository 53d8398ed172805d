package apptest

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
	"time"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/config"
	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/scheduler"
	"github.com/committeebot/committeebot/storage"
)

// childEnv, set in its environment, makes a test binary the bot process
// of a crash test (Main, StartChild).
const childEnv = "COMMITTEEBOT_TEST_CHILD"

// SchedLeaseEnv sets the child's scheduler lease, so that a killed
// child's reminders are taken over within seconds
// (app/lifecycle/meetings_replicas_test.go).
const SchedLeaseEnv = "COMMITTEEBOT_TEST_SCHED_LEASE"

// OutboxRateEnv sets the child's global send limit, messages a second
// (app/lifecycle/outbox_test.go), to keep a large fan-out short.
const OutboxRateEnv = "COMMITTEEBOT_TEST_OUTBOX_RATE"

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
	if d, err := time.ParseDuration(os.Getenv(SchedLeaseEnv)); err == nil {
		// Test-only: a short scheduler lease, so that a killed instance's
		// reminders are taken over within seconds.
		opts = append(opts, app.WithSchedulerOptions(scheduler.WithLease(d)))
	}
	if n, err := strconv.Atoi(os.Getenv(OutboxRateEnv)); err == nil {
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

// StartChild starts the bot as a separate process sharing the harness's
// Redis and stand-in: the test binary again, whose Main runs the bot
// (runChild) instead of the tests. The test may SIGKILL it as a crash;
// it is killed when the test ends.
func (h *Harness) StartChild(name string) *exec.Cmd {
	h.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	for _, k := range config.Keys() {
		if v := h.Env[config.EnvVar(k)]; v != "" {
			cmd.Env = append(cmd.Env, config.EnvVar(k)+"="+v)
		}
	}
	// Test-only knobs of the child (see runChild), per harness so that
	// tests starting children can run in parallel.
	for k, v := range h.Env {
		if strings.HasPrefix(k, "COMMITTEEBOT_TEST_") {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stdout = h.Logs
	cmd.Stderr = h.Logs
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("starting %s: %v", name, err)
	}
	h.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	})
	return cmd
}

// Hanging counts sendMessage calls the stand-in is holding.
func (h *Harness) Hanging() int {
	return h.TG.InFlight("sendMessage")
}

// Replied counts the bot's messages in the test users' private chats.
func (h *Harness) Replied() int {
	n := 0
	for _, u := range []int64{AliceID, BobID, AdminID} {
		n += len(h.TG.BotMessages(u))
	}
	return n
}

// AllReplied reports whether each of users has at least n messages from
// the bot in their private chat.
func (h *Harness) AllReplied(users []int64, n int) bool {
	for _, u := range users {
		if len(h.TG.BotMessages(u)) < n {
			return false
		}
	}
	return true
}
