package app_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/config"
	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// TestMain doubles as the bot process of the crash tests: started with
// childEnv set, the test binary runs the bot from its environment instead
// of the tests, so a test can SIGKILL it like a real crash.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	// go-redis logs every failed dial of the Redis-outage test; keep the
	// test output readable.
	storage.SetRedisLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	// A hundred bots in one process under the race detector: collecting
	// garbage a quarter as often costs about 8 % less CPU for about
	// 0.5 GB more memory (the environment's GOGC, if set, wins).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	redistest.Main(m)
}

// People and chats of the end-to-end tests.
const (
	adminID = 100 // global admin
	aliceID = 201 // administrator of the group
	bobID   = 202 // plain member of the group
	carolID = 203 // member of the group
	daveID  = 204 // member of the group
	groupID = -1001500
	botName = "committee_test_bot"
)

// harness is a running bot: the real App on a real redis-server, talking
// through the real tgbotapi client to the Telegram stand-in.
type harness struct {
	t    *testing.T
	tg   *telegramtest.Server
	rd   *redistest.Instance
	cfg  *config.Config
	app  *app.App
	logs *app.LogBuffer
	ops  string
	env  map[string]string
	// charts: the bot draws each result's chart (harnessOpts.charts).
	charts bool

	stop context.CancelFunc
	done chan error
}

type harnessOpts struct {
	tgOpts  []telegramtest.Option
	appOpts []app.Option
	env     map[string]string
	// ownRedis gives the test its own redis-server, which it may stop.
	ownRedis bool
	// telegramLimits keeps the sender's real pacing (30/s, 1/s per chat,
	// 20/min per group).
	telegramLimits bool
	// noApp leaves starting the bot to the test (crash tests run it as a
	// separate process).
	noApp bool
	// freshProfile starts the stand-in without the command menus and
	// descriptions an earlier run of the bot set (see botProfile).
	freshProfile bool
	// charts has the bot draw a closed ballot's chart at once. Without it
	// the chart's job falls due only long after the test: drawing a chart
	// takes about a second of CPU under the race detector, and the tests
	// about charts (chart_test.go, topics_test.go) are the ones that
	// look at them.
	charts bool
}

// noChart is the chart delay of a harness without charts: longer than any
// step clock in the tests moves on.
const noChart = 100 * 365 * 24 * time.Hour

// chartDelay is the app option placing the result charts as the harness
// wants them.
func (h *harness) chartDelay() app.Option {
	if h.charts {
		return app.WithChartDelay(0)
	}
	return app.WithChartDelay(noChart)
}

func startBot(t *testing.T, ho harnessOpts) *harness {
	t.Helper()
	tgOpts := append([]telegramtest.Option{telegramtest.WithBotUser(botName)}, ho.tgOpts...)
	if !ho.freshProfile {
		tgOpts = append(tgOpts, telegramtest.WithProfile(botProfile(t)))
	}
	tg := telegramtest.New(tgOpts...)
	t.Cleanup(tg.Close)
	tg.AddUser(telegramtest.User{ID: adminID, FirstName: "Admin"})
	tg.AddUser(telegramtest.User{ID: aliceID, FirstName: "Alice", Username: "alice"})
	tg.AddUser(telegramtest.User{ID: bobID, FirstName: "Bob", Username: "bob"})
	tg.AddUser(telegramtest.User{ID: carolID, FirstName: "Carol", Username: "carol"})
	tg.AddUser(telegramtest.User{ID: daveID, FirstName: "Dave", Username: "dave"})
	for _, id := range []int64{adminID, aliceID, bobID, carolID, daveID} {
		tg.StartPrivate(id)
	}
	tg.AddGroup(telegramtest.Chat{ID: groupID, Type: "supergroup", Title: "Khối thi đua <Test> & Co"},
		telegramtest.Member{UserID: aliceID, Status: "administrator"},
		telegramtest.Member{UserID: bobID, Status: "member"},
		telegramtest.Member{UserID: adminID, Status: "member"},
		telegramtest.Member{UserID: carolID, Status: "member"},
		telegramtest.Member{UserID: daveID, Status: "member"})

	var rd *redistest.Instance
	if ho.ownRedis {
		rd = redistest.New(t, redistest.WithOwnServer())
	} else {
		rd = redistest.New(t)
	}
	h := &harness{t: t, tg: tg, rd: rd, logs: &app.LogBuffer{}, charts: ho.charts}
	h.cfg = h.config(ho)
	if !ho.noApp {
		opts := ho.appOpts
		if !ho.telegramLimits {
			// The sender's pacing is tested in package bot, against the
			// stand-in's limits, and by the tests that set telegramLimits;
			// elsewhere it would only make the tests wait.
			opts = append([]app.Option{app.WithOutboxLimits(storage.OutboxLimits{})}, opts...)
		}
		h.start(opts...)
		h.waitReady()
	}
	t.Cleanup(func() {
		h.shutdown()
		if rej := tg.Rejections(); len(rej) > 0 {
			for _, r := range rej {
				t.Errorf("stand-in rejected %s %v: %d %s", r.Method, r.Params, r.Status, r.Description)
			}
		}
		if strings.Contains(h.logs.String(), tg.Token()) {
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
// them ask for a fresh stand-in (harnessOpts.freshProfile).
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
		h := startBot(t, harnessOpts{freshProfile: true})
		profile.p = h.tg.Profile()
	})
	return profile.p
}

func (h *harness) config(ho harnessOpts) *config.Config {
	h.t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := map[string]string{
		"COMMITTEEBOT_TELEGRAM_TOKEN":        h.tg.Token(),
		"COMMITTEEBOT_TELEGRAM_API_ENDPOINT": h.tg.Endpoint(),
		"COMMITTEEBOT_TELEGRAM_POLL_TIMEOUT": "2s",
		"COMMITTEEBOT_REDIS_URL":             h.rd.URL(),
		"COMMITTEEBOT_REDIS_KEY_PREFIX":      h.rd.Prefix(),
		"COMMITTEEBOT_BOT_ADMINS":            fmt.Sprint(adminID),
		"COMMITTEEBOT_VOTING_SEAL_KEY":       base64.StdEncoding.EncodeToString(key),
		"COMMITTEEBOT_LOG_LEVEL":             "debug",
		// Each join is told at once (TestJoinsAreToldOncePerMinute
		// tests the digest).
		"COMMITTEEBOT_BOT_JOIN_DIGEST": "0s",
	}
	for k, v := range ho.env {
		env[k] = v
	}
	h.env = env
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		h.t.Fatal(err)
	}
	if err := cfg.Validate(config.CommandServe); err != nil {
		h.t.Fatal(err)
	}
	return cfg
}

// start runs a new App instance on the harness's Redis and stand-in.
func (h *harness) start(opts ...app.Option) {
	h.t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	h.ops = "http://" + l.Addr().String()
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The chart at once, if at all: tests read the group right after a
	// result.
	a, err := app.New(h.cfg, log, append([]app.Option{app.WithOpsListener(l), h.chartDelay()}, opts...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	h.app = a
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- a.Run(ctx) }()
}

// waitReady waits until /readyz answers 200 — the bot heard from Telegram
// who it is (getMe) and reaches Redis — and, in polling mode, until it
// holds the poll lease and polls: tests that stop Redis next expect a bot
// that is running.
func (h *harness) waitReady() {
	h.t.Helper()
	waitFor(h.t, func() bool { code, _ := h.get("/readyz"); return code == http.StatusOK }, h.logs.String)
	if h.cfg.Telegram.Mode != "webhook" {
		// The gauge is set before the poller's first getUpdates; gathering
		// every metric (the process collector reads /proc) only once the
		// stand-in saw one spares the 20 ms polling most of that work.
		waitFor(h.t, func() bool {
			return h.tg.MostInFlight("getUpdates") > 0 && gauge(h.t, h.app.Metrics(), "committeebot_poller_active") == 1
		}, h.logs.String)
	}
}

// shutdown stops the App as SIGTERM would and checks it stopped cleanly.
func (h *harness) shutdown() {
	h.t.Helper()
	if h.stop == nil {
		return
	}
	_, returned, err := h.stopRun(30 * time.Second)
	switch {
	case !returned:
		h.t.Error("the bot did not shut down")
	case err != nil:
		h.t.Errorf("Run returned %v, want nil on shutdown", err)
	}
}

// stopRun stops the App as SIGTERM would and waits up to limit for Run to
// return: how long it took, whether it returned, and what it returned.
func (h *harness) stopRun(limit time.Duration) (took time.Duration, returned bool, err error) {
	start := time.Now()
	h.stop()
	h.stop = nil
	select {
	case err := <-h.done:
		return time.Since(start), true, err
	case <-time.After(limit):
		return time.Since(start), false, nil
	}
}

// say sends text as user in chat and returns the bot's first message in
// that chat after it.
func (h *harness) say(chatID, userID int64, text string) telegramtest.Message {
	h.t.Helper()
	sent := h.tg.SendText(chatID, userID, text)
	m := h.waitReply(chatID, sent.MessageID)
	h.settle()
	return m
}

// expect says text as user in chat and reports an error unless the bot's
// answer holds every one of want; it returns the answer.
func (h *harness) expect(chat, user int64, text string, want ...string) telegramtest.Message {
	h.t.Helper()
	return h.sayChecked(hasAll, chat, user, text, want)
}

// require is expect for a step the rest of the test builds on: a wrong
// answer stops the test.
func (h *harness) require(chat, user int64, text string, want ...string) telegramtest.Message {
	h.t.Helper()
	m := h.expect(chat, user, text, want...)
	if len(absent(m.Text, want)) > 0 {
		h.t.FailNow()
	}
	return m
}

// expectNot says text as user in chat and reports an error if the bot's
// answer holds any of unwanted; it returns the answer.
func (h *harness) expectNot(chat, user int64, text string, unwanted ...string) telegramtest.Message {
	h.t.Helper()
	return h.sayChecked(hasNone, chat, user, text, unwanted)
}

// sayChecked says text as user in chat and checks the bot's answer with
// check (hasAll or hasNone) and words.
func (h *harness) sayChecked(check func(t *testing.T, what, text string, words ...string), chat, user int64, text string, words []string) telegramtest.Message {
	h.t.Helper()
	m := h.say(chat, user, text)
	check(h.t, answerTo(chat, user, text), m.Text, words...)
	return m
}

// exchange is a line a test sends and what the bot's answer must hold.
type exchange struct {
	name       string // names the subtest
	chat, user int64
	text       string
	want       []string
}

// expectEach sends each exchange in turn, in a subtest of t, and checks
// that the bot's answer holds every one of its want.
func (h *harness) expectEach(t *testing.T, exchanges []exchange) {
	t.Helper()
	for _, x := range exchanges {
		t.Run(x.name, func(t *testing.T) {
			t.Helper()
			m := h.say(x.chat, x.user, x.text)
			hasAll(t, answerTo(x.chat, x.user, x.text), m.Text, x.want...)
		})
	}
}

// answerTo names, in a failure, the bot's answer to text.
func answerTo(chat, user int64, text string) string {
	return fmt.Sprintf("the answer to %.80q (user %d in chat %d)", text, user, chat)
}

// hasAll reports an error unless text, named what, holds every one of
// want.
func hasAll(t *testing.T, what, text string, want ...string) {
	t.Helper()
	if lacks := absent(text, want); len(lacks) > 0 {
		t.Errorf("%s lacks %q:\n%s", what, lacks, text)
	}
}

// hasNone reports an error for each of unwanted that text, named what,
// holds.
func hasNone(t *testing.T, what, text string, unwanted ...string) {
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

// sendAtOnce has each of users send text in their private chat with the
// bot, all at once.
func (h *harness) sendAtOnce(users []int64, text string) {
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			h.tg.SendText(u, u, text)
		})
	}
	wg.Wait()
}

// waitOutcomes waits until the bot's messages in the private chats of
// users that outcome names (a message it names "" does not count) are n,
// and returns how many it gave each name.
func (h *harness) waitOutcomes(users []int64, n int, outcome func(text string) string) map[string]int {
	h.t.Helper()
	var got map[string]int
	waitFor(h.t, func() bool {
		got = map[string]int{}
		total := 0
		for _, u := range users {
			for _, m := range h.tg.BotMessages(u) {
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
			for _, m := range h.tg.BotMessages(u) {
				fmt.Fprintf(&b, "%d: %q\n", u, m.Text)
			}
		}
		return b.String()
	})
	return got
}

// settle waits until the outbox has delivered everything queued so far,
// and the results of closed ballots (posted by a job due at once) are
// queued: handlers return before their messages reach Telegram, so a
// test that reads another chat, or an edit, after an answer waits for
// them.
func (h *harness) settle() {
	h.t.Helper()
	keys := storage.NewKeys(h.rd.Prefix())
	box := storage.NewOutbox(h.rd.Client(), keys, storage.OutboxLimits{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		due, _ := h.rd.Client().ZRange(ctx, keys.SchedulerDue(), 0, -1).Result()
		results := slices.ContainsFunc(due, func(id string) bool {
			return strings.HasPrefix(id, "bres.") || (h.charts && strings.HasPrefix(id, "bchart."))
		})
		n, err := box.Pending(ctx)
		if (err == nil && n == 0 && !results) || storage.IsUnavailable(err) {
			return // delivered, or Redis is down on purpose (nothing to wait for)
		}
		select {
		case <-ctx.Done():
			h.t.Fatalf("the outbox still holds %d messages (%v); jobs due or waiting to retry: %v; the bot's last log lines:\n%s", n, err, due, lastLines(h.logs.String(), 40))
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// waitReply waits for a bot message in chat newer than afterID.
func (h *harness) waitReply(chatID int64, afterID int) telegramtest.Message {
	h.t.Helper()
	return h.waitAfter(chatID, afterID, "bot reply", nil)
}

// waitAfter waits for the first bot message in chat newer than afterID
// that match accepts (nil accepts any) and stops the test if none comes;
// what names the message awaited.
func (h *harness) waitAfter(chatID int64, afterID int, what string, match func(telegramtest.Message) bool) telegramtest.Message {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := h.tg.WaitBotMessageAfter(ctx, chatID, afterID, match)
	if err != nil {
		h.t.Fatalf("no %s in chat %d after message %d: %v", what, chatID, afterID, err)
	}
	return m
}

// waitFirst waits until some bot message in chat satisfies match and
// returns the first that does; on time-out it shows the logs.
func (h *harness) waitFirst(chatID int64, match func(telegramtest.Message) bool) telegramtest.Message {
	h.t.Helper()
	var found telegramtest.Message
	waitFor(h.t, func() bool {
		for _, m := range h.tg.BotMessages(chatID) {
			if match(m) {
				found = m
				return true
			}
		}
		return false
	}, h.logs.String)
	return found
}

// countWhere is how many bot messages in chat have a text match accepts.
func (h *harness) countWhere(chatID int64, match func(text string) bool) int {
	n := 0
	for _, m := range h.tg.BotMessages(chatID) {
		if match(m.Text) {
			n++
		}
	}
	return n
}

// pressData presses a button carrying data on message msgID as user in
// chat (a forged or stale one too: the stand-in sends any data) and
// returns the bot's answer once it has answered.
func (h *harness) pressData(chatID, userID int64, msgID int, data string) telegramtest.CallbackAnswer {
	h.t.Helper()
	return h.waitAnswer(h.tg.PressButton(chatID, userID, msgID, data))
}

// waitAnswer waits until the bot has answered callback query qid and
// returns the answer.
func (h *harness) waitAnswer(qid string) telegramtest.CallbackAnswer {
	h.t.Helper()
	var a telegramtest.CallbackAnswer
	waitFor(h.t, func() bool {
		var ok bool
		a, ok = h.tg.CallbackAnswer(qid)
		return ok && a.Answered
	})
	return a
}

// quiet waits until the stand-in has no pending update and the bot sent
// nothing for a moment, then returns the bot's messages in chat.
func (h *harness) quiet(chatID int64) []telegramtest.Message {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	last := -1
	for time.Now().Before(deadline) {
		n := len(h.tg.Requests())
		if h.tg.PendingUpdates() == 0 && n == last {
			h.settle()
			return h.tg.BotMessages(chatID)
		}
		last = n
		time.Sleep(300 * time.Millisecond)
	}
	h.t.Fatal("the bot never went quiet")
	return nil
}

func (h *harness) get(path string) (int, string) {
	h.t.Helper()
	resp, err := http.Get(h.ops + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
