package apptest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/config"
	"github.com/committeebot/committeebot/internal/logtest"
	"github.com/committeebot/committeebot/metrics"
	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// People and chats of the end-to-end tests: every harness's stand-in
// has them, each person with a private chat open with the bot, in one
// supergroup.
const (
	AdminID = 100 // global admin
	AliceID = 201 // administrator of the group
	BobID   = 202 // plain member of the group
	CarolID = 203 // member of the group
	DaveID  = 204 // member of the group
	GroupID = -1001500
	BotName = "committee_test_bot"
)

// Harness is a running bot: the real App on a real redis-server, talking
// through the real tgbotapi client to the Telegram stand-in.
type Harness struct {
	t     *testing.T
	TG    *telegramtest.Server // the stand-in: the tests' Telegram
	Redis *redistest.Instance  // the bot's Redis and key prefix
	Cfg   *config.Config       // the bot's configuration
	App   *app.App             // the running bot (nil with Options.NoApp)
	Logs  *logtest.Buffer      // the bot's log, JSON lines
	ops   string               // the ops server's base URL
	Env   map[string]string    // the environment Cfg was loaded from
	// charts: the bot draws each result's chart (Options.Charts).
	charts bool

	Stop context.CancelFunc // ends Run, as SIGTERM would
	done chan error
}

// Options are what a test asks of its harness; the zero value is a bot
// polling the stand-in, on the package's shared redis-server.
type Options struct {
	TGOpts  []telegramtest.Option
	AppOpts []app.Option
	Env     map[string]string
	// OwnRedis gives the test its own redis-server, which it may stop.
	OwnRedis bool
	// TelegramLimits keeps the sender's real pacing (30/s, 1/s per chat,
	// 20/min per group).
	TelegramLimits bool
	// NoApp leaves starting the bot to the test (crash tests run it as a
	// separate process).
	NoApp bool
	// FreshProfile starts the stand-in without the command menus and
	// descriptions an earlier run of the bot set (see botProfile).
	FreshProfile bool
	// Charts has the bot draw a closed ballot's chart at once. Without it
	// the chart's job falls due only long after the test: drawing a chart
	// takes about a second of CPU under the race detector, and the tests
	// about charts (chart_test.go, topics_test.go) are the ones that
	// look at them.
	Charts bool
}

// noChart is the chart delay of a harness without charts: longer than any
// step clock in the tests moves on.
const noChart = 100 * 365 * 24 * time.Hour

// chartDelay is the app option placing the result charts as the harness
// wants them.
func (h *Harness) chartDelay() app.Option {
	if h.charts {
		return app.WithChartDelay(0)
	}
	return app.WithChartDelay(noChart)
}

// StartBot starts a harness for t: a stand-in with the people and the
// group above, a Redis key prefix of its own, and (unless ho.NoApp) the
// bot, ready and polling. Everything stops when t ends, and t fails if
// the stand-in rejected any request or the token appears in the logs.
func StartBot(t *testing.T, ho Options) *Harness {
	t.Helper()
	tgOpts := append([]telegramtest.Option{telegramtest.WithBotUser(BotName)}, ho.TGOpts...)
	if !ho.FreshProfile {
		tgOpts = append(tgOpts, telegramtest.WithProfile(botProfile(t)))
	}
	tg := telegramtest.New(tgOpts...)
	t.Cleanup(tg.Close)
	tg.AddUser(telegramtest.User{ID: AdminID, FirstName: "Admin"})
	tg.AddUser(telegramtest.User{ID: AliceID, FirstName: "Alice", Username: "alice"})
	tg.AddUser(telegramtest.User{ID: BobID, FirstName: "Bob", Username: "bob"})
	tg.AddUser(telegramtest.User{ID: CarolID, FirstName: "Carol", Username: "carol"})
	tg.AddUser(telegramtest.User{ID: DaveID, FirstName: "Dave", Username: "dave"})
	for _, id := range []int64{AdminID, AliceID, BobID, CarolID, DaveID} {
		tg.StartPrivate(id)
	}
	tg.AddGroup(telegramtest.Chat{ID: GroupID, Type: "supergroup", Title: "Khối thi đua <Test> & Co"},
		telegramtest.Member{UserID: AliceID, Status: "administrator"},
		telegramtest.Member{UserID: BobID, Status: "member"},
		telegramtest.Member{UserID: AdminID, Status: "member"},
		telegramtest.Member{UserID: CarolID, Status: "member"},
		telegramtest.Member{UserID: DaveID, Status: "member"})

	var rd *redistest.Instance
	if ho.OwnRedis {
		rd = redistest.New(t, redistest.WithOwnServer())
	} else {
		rd = redistest.New(t)
	}
	h := &Harness{t: t, TG: tg, Redis: rd, Logs: &logtest.Buffer{}, charts: ho.Charts}
	h.Cfg = h.Config(ho)
	if !ho.NoApp {
		opts := ho.AppOpts
		if !ho.TelegramLimits {
			// The sender's pacing is tested in package bot, against the
			// stand-in's limits, and by the tests that set TelegramLimits;
			// elsewhere it would only make the tests wait.
			opts = append([]app.Option{app.WithOutboxLimits(storage.OutboxLimits{})}, opts...)
		}
		h.Start(opts...)
		h.WaitReady()
	}
	t.Cleanup(func() {
		h.Shutdown()
		if rej := tg.Rejections(); len(rej) > 0 {
			for _, r := range rej {
				t.Errorf("stand-in rejected %s %v: %d %s", r.Method, r.Params, r.Status, r.Description)
			}
		}
		if strings.Contains(h.Logs.String(), tg.Token()) {
			t.Error("the bot token appears in the logs")
		}
	})
	return h
}

// profile holds the command menus and descriptions the bot sets at
// start, taken once from a bot started on a stand-in of its own. The
// other harnesses' stand-ins start with them, as Telegram keeps them for
// a restarted bot, which then reads them and sets none: its start makes
// 12 calls to the stand-in instead of 24, and not the largest ones
// (a third of all the package's calls were these). The tests of setting
// them ask for a fresh stand-in (Options.FreshProfile).
var profile struct {
	once sync.Once
	p    telegramtest.Profile
}

// botProfile returns profile, starting the bot that sets it on the first
// call; the bot runs until t ends.
func botProfile(t *testing.T) telegramtest.Profile {
	t.Helper()
	profile.once.Do(func() {
		// Ready means polling, which starts once the menus and
		// descriptions are set.
		h := StartBot(t, Options{FreshProfile: true})
		profile.p = h.TG.Profile()
	})
	return profile.p
}

// Config is the configuration of the harness's bot, with ho.Env's
// variables over the harness's own; Env keeps the whole environment (a
// crash test's child process is started with it).
func (h *Harness) Config(ho Options) *config.Config {
	h.t.Helper()
	var cfg *config.Config
	cfg, h.Env = Config(h.t, h.TG, h.Redis, ho.Env)
	return cfg
}

// Config is the configuration of a bot talking to the stand-in tg and
// the Redis rd, with env's variables over the harness's own, and the
// whole environment it was loaded from.
func Config(t *testing.T, tg *telegramtest.Server, rd *redistest.Instance, env map[string]string) (*config.Config, map[string]string) {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	all := map[string]string{
		"COMMITTEEBOT_TELEGRAM_TOKEN":        tg.Token(),
		"COMMITTEEBOT_TELEGRAM_API_ENDPOINT": tg.Endpoint(),
		"COMMITTEEBOT_TELEGRAM_POLL_TIMEOUT": "2s",
		"COMMITTEEBOT_REDIS_URL":             rd.URL(),
		"COMMITTEEBOT_REDIS_KEY_PREFIX":      rd.Prefix(),
		"COMMITTEEBOT_BOT_ADMINS":            fmt.Sprint(AdminID),
		"COMMITTEEBOT_VOTING_SEAL_KEY":       base64.StdEncoding.EncodeToString(key),
		"COMMITTEEBOT_LOG_LEVEL":             "debug",
		// Each join is told at once (TestJoinsAreToldOncePerMinute
		// tests the digest).
		"COMMITTEEBOT_BOT_JOIN_DIGEST": "0s",
	}
	for k, v := range env {
		all[k] = v
	}
	cfg, err := config.Load("", func(k string) string { return all[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(config.CommandServe); err != nil {
		t.Fatal(err)
	}
	return cfg, all
}

// Start runs a new App instance on the harness's Redis and stand-in.
func (h *Harness) Start(opts ...app.Option) {
	h.t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	h.ops = "http://" + l.Addr().String()
	log := slog.New(slog.NewJSONHandler(h.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The chart at once, if at all: tests read the group right after a
	// result.
	a, err := app.New(h.Cfg, log, append([]app.Option{app.WithOpsListener(l), h.chartDelay()}, opts...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	h.App = a
	ctx, cancel := context.WithCancel(context.Background())
	h.Stop = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- a.Run(ctx) }()
}

// WaitReady waits until /readyz answers 200 — the bot heard from Telegram
// who it is (getMe) and reaches Redis — and, in polling mode, until it
// holds the poll lease and polls: tests that stop Redis next expect a bot
// that is running.
func (h *Harness) WaitReady() {
	h.t.Helper()
	WaitFor(h.t, func() bool { code, _ := h.Get("/readyz"); return code == http.StatusOK }, h.Logs.String)
	if h.Cfg.Telegram.Mode != "webhook" {
		// The gauge is set before the poller's first getUpdates; gathering
		// every metric (the process collector reads /proc) only once the
		// stand-in saw one spares the 20 ms polling most of that work.
		WaitFor(h.t, func() bool {
			return h.TG.MostInFlight("getUpdates") > 0 && Gauge(h.t, h.App.Metrics(), "committeebot_poller_active") == 1
		}, h.Logs.String)
	}
}

// Shutdown stops the App as SIGTERM would and checks it stopped cleanly.
func (h *Harness) Shutdown() {
	h.t.Helper()
	if h.Stop == nil {
		return
	}
	_, returned, err := h.StopRun(30 * time.Second)
	switch {
	case !returned:
		h.t.Error("the bot did not shut down")
	case err != nil:
		h.t.Errorf("Run returned %v, want nil on shutdown", err)
	}
}

// StopRun stops the App as SIGTERM would and waits up to limit for Run to
// return: how long it took, whether it returned, and what it returned.
func (h *Harness) StopRun(limit time.Duration) (took time.Duration, returned bool, err error) {
	start := time.Now()
	h.Stop()
	h.Stop = nil
	select {
	case err := <-h.done:
		return time.Since(start), true, err
	case <-time.After(limit):
		return time.Since(start), false, nil
	}
}

// Say sends text as user in chat and returns the bot's first message in
// that chat after it.
func (h *Harness) Say(chatID, userID int64, text string) telegramtest.Message {
	h.t.Helper()
	sent := h.TG.SendText(chatID, userID, text)
	m := h.WaitReply(chatID, sent.MessageID)
	h.Settle()
	return m
}

// Expect says text as user in chat and reports an error unless the bot's
// answer holds every one of want; it returns the answer.
func (h *Harness) Expect(chat, user int64, text string, want ...string) telegramtest.Message {
	h.t.Helper()
	return h.sayChecked(HasAll, chat, user, text, want)
}

// Require is expect for a step the rest of the test builds on: a wrong
// answer stops the test.
func (h *Harness) Require(chat, user int64, text string, want ...string) telegramtest.Message {
	h.t.Helper()
	m := h.Expect(chat, user, text, want...)
	if len(absent(m.Text, want)) > 0 {
		h.t.FailNow()
	}
	return m
}

// ExpectNot says text as user in chat and reports an error if the bot's
// answer holds any of unwanted; it returns the answer.
func (h *Harness) ExpectNot(chat, user int64, text string, unwanted ...string) telegramtest.Message {
	h.t.Helper()
	return h.sayChecked(HasNone, chat, user, text, unwanted)
}

// sayChecked says text as user in chat and checks the bot's answer with
// check (HasAll or HasNone) and words.
func (h *Harness) sayChecked(check func(t *testing.T, what, text string, words ...string), chat, user int64, text string, words []string) telegramtest.Message {
	h.t.Helper()
	m := h.Say(chat, user, text)
	check(h.t, AnswerTo(chat, user, text), m.Text, words...)
	return m
}

// Exchange is a line a test sends and what the bot's answer must hold.
type Exchange struct {
	Name       string // names the subtest
	Chat, User int64
	Text       string
	Want       []string
}

// Step is the exchange named name: user says text in chat, and the bot's
// answer holds every one of want.
func Step(name string, chat, user int64, text string, want ...string) Exchange {
	return Exchange{Name: name, Chat: chat, User: user, Text: text, Want: want}
}

// ExpectEach sends each exchange in turn, in a subtest of t, and checks
// that the bot's answer holds every one of its want.
func (h *Harness) ExpectEach(t *testing.T, exchanges []Exchange) {
	t.Helper()
	for _, x := range exchanges {
		t.Run(x.Name, func(t *testing.T) {
			t.Helper()
			m := h.Say(x.Chat, x.User, x.Text)
			HasAll(t, AnswerTo(x.Chat, x.User, x.Text), m.Text, x.Want...)
		})
	}
}

// AnswerTo names, in a failure, the bot's answer to text.
func AnswerTo(chat, user int64, text string) string {
	return fmt.Sprintf("the answer to %.80q (user %d in chat %d)", text, user, chat)
}

// HasAll reports an error unless text, named what, holds every one of
// want.
func HasAll(t *testing.T, what, text string, want ...string) {
	t.Helper()
	if lacks := absent(text, want); len(lacks) > 0 {
		t.Errorf("%s lacks %q:\n%s", what, lacks, text)
	}
}

// HasNone reports an error for each of unwanted that text, named what,
// holds.
func HasNone(t *testing.T, what, text string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(text, u) {
			t.Errorf("%s holds %q:\n%s", what, u, text)
		}
	}
}

// absent is those of want that s does not hold.
func absent(s string, want []string) []string {
	var lacks []string
	for _, w := range want {
		if !strings.Contains(s, w) {
			lacks = append(lacks, w)
		}
	}
	return lacks
}

// SendAtOnce has each of users send text in their private chat with the
// bot, all at once.
func (h *Harness) SendAtOnce(users []int64, text string) {
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			h.TG.SendText(u, u, text)
		})
	}
	wg.Wait()
}

// WaitOutcomes waits until the bot's messages in the private chats of
// users that outcome names (a message it names "" does not count) are n,
// and returns how many it gave each name.
func (h *Harness) WaitOutcomes(users []int64, n int, outcome func(text string) string) map[string]int {
	h.t.Helper()
	var got map[string]int
	WaitFor(h.t, func() bool {
		got = map[string]int{}
		total := 0
		for _, u := range users {
			for _, m := range h.TG.BotMessages(u) {
				if o := outcome(m.Text); o != "" {
					got[o]++
					total++
				}
			}
		}
		return total == n
	}, func() string {
		var b strings.Builder
		for _, u := range users {
			for _, m := range h.TG.BotMessages(u) {
				fmt.Fprintf(&b, "%d: %q\n", u, m.Text)
			}
		}
		return b.String()
	})
	return got
}

// Settle waits until the outbox has delivered everything queued so far,
// and the results of closed ballots (posted by a job due at once) are
// queued: handlers return before their messages reach Telegram, so a
// test that reads another chat, or an edit, after an answer waits for
// them.
func (h *Harness) Settle() {
	h.t.Helper()
	keys := storage.NewKeys(h.Redis.Prefix())
	box := storage.NewOutbox(h.Redis.Client(), keys, storage.OutboxLimits{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		due, _ := h.Redis.Client().ZRange(ctx, keys.SchedulerDue(), 0, -1).Result()
		results := slices.ContainsFunc(due, func(id string) bool {
			return strings.HasPrefix(id, "bres.") || (h.charts && strings.HasPrefix(id, "bchart."))
		})
		n, err := box.Pending(ctx)
		if (err == nil && n == 0 && !results) || storage.IsUnavailable(err) {
			return // delivered, or Redis is down on purpose (nothing to wait for)
		}
		select {
		case <-ctx.Done():
			h.t.Fatalf("the outbox still holds %d messages (%v); jobs due or waiting to retry: %v; the bot's last log lines:\n%s", n, err, due, LastLines(h.Logs.String(), 40))
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// LastLines is the last n lines of s.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// WaitReply waits for a bot message in chat newer than afterID.
func (h *Harness) WaitReply(chatID int64, afterID int) telegramtest.Message {
	h.t.Helper()
	return h.WaitAfter(chatID, afterID, "bot reply", nil)
}

// WaitAfter waits for the first bot message in chat newer than afterID
// that match accepts (nil accepts any) and stops the test if none comes;
// what names the message awaited.
func (h *Harness) WaitAfter(chatID int64, afterID int, what string, match func(telegramtest.Message) bool) telegramtest.Message {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := h.TG.WaitBotMessageAfter(ctx, chatID, afterID, match)
	if err != nil {
		h.t.Fatalf("no %s in chat %d after message %d: %v", what, chatID, afterID, err)
	}
	return m
}

// WaitFirst waits until some bot message in chat satisfies match and
// returns the first that does; on time-out it shows the logs.
func (h *Harness) WaitFirst(chatID int64, match func(telegramtest.Message) bool) telegramtest.Message {
	h.t.Helper()
	var found telegramtest.Message
	WaitFor(h.t, func() bool {
		for _, m := range h.TG.BotMessages(chatID) {
			if match(m) {
				found = m
				return true
			}
		}
		return false
	}, h.Logs.String)
	return found
}

// CountWhere is how many bot messages in chat have a text match accepts.
func (h *Harness) CountWhere(chatID int64, match func(text string) bool) int {
	n := 0
	for _, m := range h.TG.BotMessages(chatID) {
		if match(m.Text) {
			n++
		}
	}
	return n
}

// PressData presses a button carrying data on message msgID as user in
// chat (a forged or stale one too: the stand-in sends any data) and
// returns the bot's answer once it has answered.
func (h *Harness) PressData(chatID, userID int64, msgID int, data string) telegramtest.CallbackAnswer {
	h.t.Helper()
	return h.WaitAnswer(h.TG.PressButton(chatID, userID, msgID, data))
}

// WaitAnswer waits until the bot has answered callback query qid and
// returns the answer.
func (h *Harness) WaitAnswer(qid string) telegramtest.CallbackAnswer {
	h.t.Helper()
	var a telegramtest.CallbackAnswer
	WaitFor(h.t, func() bool {
		var ok bool
		a, ok = h.TG.CallbackAnswer(qid)
		return ok && a.Answered
	})
	return a
}

// Quiet waits until the stand-in has no pending update and the bot sent
// nothing for a moment, then returns the bot's messages in chat.
func (h *Harness) Quiet(chatID int64) []telegramtest.Message {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	last := -1
	for time.Now().Before(deadline) {
		n := len(h.TG.Requests())
		if h.TG.PendingUpdates() == 0 && n == last {
			h.Settle()
			return h.TG.BotMessages(chatID)
		}
		last = n
		time.Sleep(300 * time.Millisecond)
	}
	h.t.Fatal("the bot never went quiet")
	return nil
}

// Get fetches path from the bot's ops server (/healthz, /readyz,
// /metrics) and returns the status code and body.
func (h *Harness) Get(path string) (int, string) {
	h.t.Helper()
	resp, err := http.Get(h.ops + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// CountMessages is how many bot messages in chat begin with prefix.
func CountMessages(h *Harness, chat int64, prefix string) int {
	return h.CountWhere(chat, func(text string) bool { return strings.HasPrefix(text, prefix) })
}

// Gauge reads an unlabelled gauge of m (0 if it is not there).
func Gauge(t *testing.T, m *metrics.Metrics, name string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}

// Listen opens a listener on a free local port, for a server the test
// starts (app.WithWebhookListener): open from now on, its port cannot be
// taken by another test meanwhile, as a port found free and closed again
// could ("bind: address already in use"). The server closes it as it
// stops.
func Listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}
