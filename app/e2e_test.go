package app_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/storage"
)

func TestStartAndHelpAnswerInPrivateAndGroup(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	h.ExpectEach(t, []apptest.Exchange{
		apptest.Step("start private", aliceID, aliceID, "/start", "Xin chào Alice", "/help"),
		apptest.Step("start group with bot name", groupID, bobID, "/start@"+botName, "Xin chào cả nhóm"),
		apptest.Step("help private", aliceID, aliceID, "/help", "/start", "/help", "/lang", "/cancel", "từng bước"),
		apptest.Step("help group", groupID, bobID, "/help@"+botName, "/lang", "bỏ phiếu"),
		apptest.Step("help group without bot name", groupID, bobID, "/help", "/start"),
		apptest.Step("command upper case", aliceID, aliceID, "/HELP", "/lang"),
	})
}

func TestCommandForAnotherBotIsIgnored(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	h.TG.SendText(groupID, bobID, "/help@some_other_bot")
	if got := h.Quiet(groupID); len(got) != 0 {
		t.Errorf("bot answered a command for another bot: %q", got[0].Text)
	}
}

func TestLanguageSwitch(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})

	h.Require(aliceID, aliceID, "/lang en", "Switched to English")
	h.Expect(aliceID, aliceID, "/help", "Commands you can use")
	h.Expect(bobID, bobID, "/help", "Các lệnh")
	h.Expect(aliceID, aliceID, "/lang fr", "no language")

	// Buttons: /lang without argument, then press "Tiếng Việt".
	m := h.Say(aliceID, aliceID, "/lang")
	if len(m.ReplyMarkup) == 0 {
		t.Fatalf("/lang without argument has no buttons: %+v", m)
	}
	var data string
	for _, row := range m.ReplyMarkup {
		for _, b := range row {
			if b.CallbackData == "lang:vi" {
				data = b.CallbackData
			}
		}
	}
	if data == "" {
		t.Fatalf("no lang:vi button in %+v", m.ReplyMarkup)
	}
	qid := h.TG.PressButton(aliceID, aliceID, m.MessageID, data)
	apptest.WaitFor(t, func() bool {
		cur, _ := h.TG.Message(aliceID, m.MessageID)
		return strings.Contains(cur.Text, "tiếng Việt")
	})
	h.WaitAnswer(qid)

	// In a group only administrators may change the group's language.
	h.Expect(groupID, bobID, "/lang@"+botName+" en", "quản trị viên")
	h.Expect(groupID, aliceID, "/lang@"+botName+" en", "This group will use English")
	h.Expect(groupID, bobID, "/help@"+botName, "Commands you can use")
}

func TestUnknownCommandIsAnsweredWithEscapedText(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	m := h.Say(aliceID, aliceID, "/nope<b>&x")
	apptest.HasAll(t, "reply", m.Text, "/nope<b>&x")
	if !strings.Contains(m.HTML, "&lt;b&gt;&amp;x") {
		t.Errorf("user text not escaped in the HTML sent: %q", m.HTML)
	}
	// A long unknown command is echoed shortened, within limits.
	m = h.Say(aliceID, aliceID, "/"+strings.Repeat("x", 200))
	apptest.HasAll(t, "the echo of a long command", m.Text, "…")
	// Plain text in a private chat gets a hint; in a group, silence.
	h.Expect(aliceID, aliceID, "hello <i>bot</i>", "/help")
}

func TestForgedButtonIsAnsweredAndChangesNothing(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	m := h.Say(aliceID, aliceID, "/start")
	for _, data := range []string{"lang:xx", "nosuchroute:1", "x"} {
		if a := h.PressData(aliceID, aliceID, m.MessageID, data); !strings.Contains(a.Text, "không còn hiệu lực") {
			t.Errorf("button %q answered %q", data, a.Text)
		}
	}
	h.Expect(aliceID, aliceID, "/help", "Các lệnh")
}

func TestTooManyRequestsStormIsWaitedOut(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{
		TGOpts:         []telegramtest.Option{telegramtest.WithRateLimits(true)},
		TelegramLimits: true,
	})
	h.TG.InjectFault("sendMessage", telegramtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: 1, Times: 3})
	for i := 0; i < 5; i++ {
		h.TG.SendText(aliceID, aliceID, "/start")
		h.TG.SendText(bobID, bobID, "/start")
	}
	apptest.WaitFor(t, func() bool {
		return len(h.TG.BotMessages(aliceID)) == 5 && len(h.TG.BotMessages(bobID)) == 5
	})
	h.Quiet(aliceID)
	if a, b := len(h.TG.BotMessages(aliceID)), len(h.TG.BotMessages(bobID)); a != 5 || b != 5 {
		t.Errorf("replies: alice %d, bob %d; want 5 each, once", a, b)
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	h.TG.InjectFault("sendMessage", telegramtest.Fault{Status: http.StatusBadGateway, Times: 2})
	m := h.Say(aliceID, aliceID, "/start")
	apptest.HasAll(t, "reply after 502s", m.Text, "Xin chào")
	if got := len(h.TG.BotMessages(aliceID)); got != 1 {
		t.Errorf("%d replies, want exactly 1", got)
	}
}

func TestRedeliveredUpdateHasNoSecondEffect(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	m := h.Say(aliceID, aliceID, "/start")
	// Telegram delivers the same update again (e.g. the offset was never
	// confirmed because the bot crashed right after handling it).
	h.TG.Redeliver(m.UpdateID)
	h.TG.Redeliver(m.UpdateID)
	h.Quiet(aliceID)
	if got := len(h.TG.BotMessages(aliceID)); got != 1 {
		t.Errorf("%d replies to one update delivered three times, want 1", got)
	}
}

func TestRedisDownTellsUsersAndRecovers(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{OwnRedis: true})
	if code, _ := h.Get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d before the outage", code)
	}
	h.Redis.Stop()
	m := h.Say(aliceID, aliceID, "/lang en")
	apptest.HasAll(t, "during the outage /lang en", m.Text, "chưa được ghi nhận")
	if code, body := h.Get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d %q during the outage, want 503", code, body)
	}
	if code, _ := h.Get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d during the outage, want 200 (the process is alive)", code)
	}

	if _, body := h.Get("/metrics"); !strings.Contains(body, "committeebot_redis_errors_total") || strings.Contains(body, "committeebot_redis_errors_total 0\n") {
		t.Error("/metrics does not count the Redis errors of the outage")
	}

	h.Redis.Restart()
	apptest.WaitFor(t, func() bool { code, _ := h.Get("/readyz"); return code == http.StatusOK })
	h.Expect(aliceID, aliceID, "/lang en", "Switched to English")
}

func TestMetricsAreServed(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	h.Say(aliceID, aliceID, "/start")
	// The update is counted when its handler returns, just after the reply.
	apptest.WaitFor(t, func() bool { _, body := h.Get("/metrics"); return strings.Contains(body, "committeebot_updates_total") })
	code, body := h.Get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	apptest.HasAll(t, "/metrics", body, "committeebot_updates_total", "committeebot_handler_duration_seconds", "committeebot_sender_queue", "committeebot_telegram_calls_total")
}

func TestCommandMenuIsPublishedInEveryLanguage(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{FreshProfile: true})
	apptest.WaitFor(t, func() bool { return len(h.TG.Commands("en", "default")) > 0 && len(h.TG.Commands("", "default")) > 0 })
	vi := h.TG.Commands("", "default")
	en := h.TG.Commands("en", "default")
	if len(vi) != len(en) {
		t.Errorf("vi menu has %d commands, en %d", len(vi), len(en))
	}
	if en[0].Description == vi[0].Description {
		t.Errorf("en and vi descriptions are the same: %q", en[0].Description)
	}
	// Menus per scope: the secretariat's commands only in the groups'
	// administrators' menu, the group's commands in groups, the private
	// ones in private chats.
	apptest.WaitFor(t, func() bool { return len(h.TG.Commands("en", "all_chat_administrators")) > 0 })
	has := func(cmds []telegramtest.BotCommand, name string) bool {
		for _, c := range cmds {
			if c.Command == name {
				return true
			}
		}
		return false
	}
	for _, lang := range []string{"", "en"} {
		admins, groups, private := h.TG.Commands(lang, "all_chat_administrators"), h.TG.Commands(lang, "all_group_chats"), h.TG.Commands(lang, "all_private_chats")
		if !has(admins, "unit_add") || !has(admins, "status") || has(groups, "unit_add") || has(private, "unit_add") {
			t.Errorf("%q: /unit_add in admins %v, groups %v, private %v", lang, has(admins, "unit_add"), has(groups, "unit_add"), has(private, "unit_add"))
		}
		if !has(admins, "setup") || has(groups, "setup") || has(private, "setup") {
			t.Errorf("%q: /setup is a group command of administrators only", lang)
		}
	}
	// The descriptions, per language.
	apptest.WaitFor(t, func() bool { return h.TG.Description(telegramtest.DescriptionShort, "en") != "" })
	for _, d := range []struct{ kind, lang, want string }{
		{telegramtest.DescriptionLong, "", "/setup"}, {telegramtest.DescriptionLong, "en", "send /setup"},
		{telegramtest.DescriptionShort, "", "khối thi đua"}, {telegramtest.DescriptionShort, "en", "emulation bloc"},
	} {
		if got := h.TG.Description(d.kind, d.lang); !strings.Contains(got, d.want) {
			t.Errorf("%s (%q) = %q, want it to hold %q", d.kind, d.lang, got, d.want)
		}
	}
	// A second start finds the menus and descriptions as they should be
	// and sends none.
	sets := func() int {
		n := 0
		for _, r := range h.TG.Requests() {
			switch r.Method {
			case "setMyCommands", "setMyDescription", "setMyShortDescription":
				n++
			}
		}
		return n
	}
	before := sets()
	h.Shutdown()
	h.Start(app.WithOutboxLimits(storage.OutboxLimits{}))
	h.Say(aliceID, aliceID, "/help")
	if after := sets(); after != before {
		t.Errorf("a restart set the menus or descriptions %d more times, want none", after-before)
	}
}

func TestLogsCarryUpdateFieldsButNoText(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	h.Say(aliceID, aliceID, "/nope secret-words-here")
	h.Quiet(aliceID)
	logs := h.Logs.String()
	apptest.HasAll(t, "the update log lines", logs, `"update_id"`, `"handler"`, `"duration"`)
	if strings.Contains(logs, "secret-words-here") {
		t.Error("message text leaked into the logs")
	}
}

func TestWebhookRefusesWrongSecretAndHandlesRightOne(t *testing.T) {
	t.Parallel()
	l := apptest.Listen(t)
	addr := l.Addr().String()
	h := apptest.StartBot(t, apptest.Options{Env: map[string]string{
		"COMMITTEEBOT_TELEGRAM_MODE":                 "webhook",
		"COMMITTEEBOT_TELEGRAM_WEBHOOK_URL":          "https://bot.example.org/hook",
		"COMMITTEEBOT_TELEGRAM_WEBHOOK_LISTEN":       addr,
		"COMMITTEEBOT_TELEGRAM_WEBHOOK_SECRET_TOKEN": "s3cret_token-1",
	}, AppOpts: []app.Option{app.WithWebhookListener(l)}})
	// The stand-in was told the public URL; point it at where we listen.
	apptest.WaitFor(t, func() bool { return h.TG.WebhookURL() != "" })
	h.TG.RedirectWebhook("http://" + addr + "/hook")

	// Updates through the stand-in's webhook delivery carry the secret.
	h.Expect(aliceID, aliceID, "/start", "Xin chào")
	// A button pressed through the webhook is answered in the webhook's
	// response, which the stand-in runs as Telegram does.
	choose := h.Say(aliceID, aliceID, "/lang")
	apptest.Press(t, h, aliceID, aliceID, choose, "English")
	if m := apptest.Current(h, aliceID, choose); !strings.Contains(m.Text, "English") {
		t.Errorf("after the press: %q", m.Text)
	}

	body := []byte(`{"update_id":999001,"message":{"message_id":77,"date":1,"chat":{"id":201,"type":"private"},"from":{"id":201,"is_bot":false,"first_name":"Mallory"},"text":"/start"}}`)
	for _, secret := range []string{"", "wrong", "s3cret_token-"} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/hook", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("secret %q: status %d, want 401", secret, resp.StatusCode)
		}
	}
	h.Quiet(aliceID)
	if got := len(h.TG.BotMessages(aliceID)); got != 2 {
		t.Errorf("%d replies, want 2 (forged webhook posts must have no effect)", got)
	}
	_, metrics := h.Get("/metrics")
	apptest.HasAll(t, "/metrics", metrics, `committeebot_webhook_requests_total{result="ok"} 3`, `committeebot_webhook_requests_total{result="unauthorized"}`)
}

// Until /lang, a person hears the language of their Telegram app when the
// catalogue has it; reminders and notices to them later use it too.
func TestTelegramAppLanguageUntilLang(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	const erinID, franzID = 301, 302
	h.TG.AddUser(telegramtest.User{ID: erinID, FirstName: "Erin", LanguageCode: "en-GB"})
	h.TG.StartPrivate(erinID)
	h.TG.AddUser(telegramtest.User{ID: franzID, FirstName: "Franz", LanguageCode: "de"})
	h.TG.StartPrivate(franzID)

	h.Expect(erinID, erinID, "/help", "Commands you can use")
	h.Expect(franzID, franzID, "/help", "Các lệnh")
	// The app's language is remembered for messages outside Erin's updates.
	lang, err := storage.NewUsers(h.Redis.Client(), storage.NewKeys(h.Redis.Prefix())).Language(context.Background(), erinID)
	if err != nil || lang != "en" {
		t.Errorf("remembered language = %q, %v; want en", lang, err)
	}
	// /lang overrides the app.
	h.Say(erinID, erinID, "/lang vi")
	h.Expect(erinID, erinID, "/help", "Các lệnh")
}

// A global admin's first /help, before any bloc exists, says how to start
// one — not "ask the secretariat".
func TestFirstHelpOfTheSecretariatSaysHowToStart(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	m := h.Say(adminID, adminID, "/help")
	apptest.HasAll(t, "the admin's first /help", m.Text, "/setup Tên khối")
	apptest.HasNone(t, "the admin's first /help", m.Text, "xin thư ký")
	h.Expect(bobID, bobID, "/help", "xin thư ký")
}

// A Telegram outage does not make the bot unready: /readyz depends on
// Redis alone (updates wait at Telegram, messages in the outbox), so that
// a blip at Telegram does not take every replica out of the load balancer.
func TestTelegramOutageLeavesTheBotReady(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	h.TG.InjectFault("getMe", telegramtest.Fault{Status: 502, Times: -1})
	if code, body := h.Get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d %q while Telegram's getMe fails, want 200", code, body)
	}
	if _, body := h.Get("/metrics"); !strings.Contains(body, "committeebot_telegram_up") {
		t.Error("/metrics lacks committeebot_telegram_up")
	}
}

// A handler that runs out of its time still answers: Telegram hangs on
// the administrator check of /setup, which the handler gives up when its
// second is over (not when the HTTP client's timeout ends the call). The
// action may be half done, so the user is told to look before repeating
// — not "safe to repeat" — and the next /setup, with Telegram answering,
// works.
func TestHandlerOutOfTimeTellsTheUserToLookBeforeRepeating(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{AppOpts: []app.Option{app.WithUpdateTimeouts(time.Second, 2*time.Second)}})
	h.TG.InjectFault("getChatMember", telegramtest.Fault{Delay: time.Minute, Times: 1})
	m := h.Say(groupID, aliceID, "/setup Khối thi đua Nội chính")
	apptest.HasAll(t, "the reply to a /setup out of time", m.Text, "có thể chưa hoàn tất", "/status")
	apptest.HasNone(t, "the reply to a /setup out of time", m.Text, "làm lại là an toàn")
	h.Expect(groupID, aliceID, "/setup Khối thi đua Nội chính", "Đã lập khối")
}
