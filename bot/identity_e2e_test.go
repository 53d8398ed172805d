package bot_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/bot/telegramtest"
)

// NewClient does not call Telegram: a process can start while Telegram is
// down and learn who it is later with GetMe.
func TestE2ENewClientCallsNothingAndGetMeSaysWhoTheBotIs(t *testing.T) {
	tg := newStandIn(t, telegramtest.WithBotUser("minutes_bot"))
	api, err := bot.NewClient(tg.Token(), tg.Endpoint(), 5*time.Second)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if n := len(tg.Requests()); n != 0 {
		t.Fatalf("NewClient made %d requests, want none", n)
	}
	me, err := bot.GetMe(t.Context(), api)
	if err != nil {
		t.Fatalf("GetMe: %v", err)
	}
	if me.Username != "minutes_bot" || me.ID != tg.Bot().ID {
		t.Errorf("GetMe = %+v, want the stand-in's bot %+v", me, tg.Bot())
	}
	assertNoRejections(t, tg)
}

func TestE2EGetMeTellsARefusedTokenFromAnOutage(t *testing.T) {
	tg := newStandIn(t)
	bad, err := bot.NewClient("42:WRONG-token", tg.Endpoint(), 5*time.Second)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	_, err = bot.GetMe(t.Context(), bad)
	if !errors.Is(err, bot.ErrTokenRejected) || !bot.IsTokenRejected(err) {
		t.Errorf("GetMe with a wrong token = %v, want ErrTokenRejected", err)
	}
	if strings.Contains(err.Error(), "WRONG-token") {
		t.Errorf("the error shows the token: %v", err)
	}

	api, err := bot.NewClient(tg.Token(), tg.Endpoint(), 5*time.Second)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	tg.InjectFault("getMe", telegramtest.Fault{Status: http.StatusBadGateway})
	_, err = bot.GetMe(t.Context(), api)
	if err == nil || bot.IsTokenRejected(err) || !bot.IsRetryable(err) {
		t.Errorf("GetMe during an outage = %v, want a retryable error", err)
	}
}

// A call ends with its context, and the HTTP request with it: Telegram
// sees the caller go instead of holding its request open.
func TestE2EGetMeEndsWithItsContext(t *testing.T) {
	tg := newStandIn(t)
	api, err := bot.NewClient(tg.Token(), tg.Endpoint(), time.Minute)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	tg.InjectFault("getMe", telegramtest.Fault{Delay: time.Minute})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := bot.GetMe(ctx, api)
		done <- err
	}()
	waitFor(t, "getMe held by the stand-in", func() bool { return tg.InFlight("getMe") == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("GetMe = %v, want context.Canceled", err)
	}
	waitFor(t, "the stand-in sees the client go", func() bool { return tg.InFlight("getMe") == 0 })
}

// A poller that stops cancels its long poll, so that another poller (a
// replica taking over) is not refused with 409 for a poll nobody waits for.
func TestE2EStoppedPollerLeavesNoPollBehind(t *testing.T) {
	tg := newStandIn(t)
	addUsers(tg, 801)
	api := connect(t, tg, time.Minute)
	ctx1, cancel1 := context.WithCancel(t.Context())
	first := runPoller(t, bot.NewPoller(api, &collectSink{}, bot.WithPollTimeout(30*time.Second)), ctx1)
	waitFor(t, "a long poll in flight", func() bool { return tg.InFlight("getUpdates") == 1 })
	cancel1()
	if err := <-first; err != nil {
		t.Fatalf("first Run: %v", err)
	}
	waitFor(t, "the long poll to end at the stand-in", func() bool { return tg.InFlight("getUpdates") == 0 })

	tg.SendText(801, 801, "/help")
	ctx2, cancel2 := context.WithCancel(t.Context())
	defer cancel2()
	sink := &collectSink{onBatch: cancel2}
	if err := <-runPoller(t, bot.NewPoller(api, sink, bot.WithPollTimeout(30*time.Second)), ctx2); err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if len(sink.Batches()) != 1 {
		t.Errorf("the second poller got batches %v, want one", sink.Batches())
	}
	if n := countStatus(tg, "getUpdates", http.StatusConflict); n != 0 {
		t.Errorf("%d getUpdates refused with 409, want none", n)
	}
	assertNoRejections(t, tg)
}
