package telegramtest

import (
	"net/http"
	"strings"
	"testing"
)

func TestValidationRejectsWhatTelegramRejects(t *testing.T) {
	s := newServer(t)
	mustOK(t, s, "sendMessage", "chat_id", "1001", "text", "anchor") // message 1 in alice's chat

	a := func(n int) string { return strings.Repeat("a", n) }
	emoji := func(n int) string { return strings.Repeat("😀", n) } // 2 UTF-16 units each
	kb := func(data string) string {
		return `{"inline_keyboard":[[{"text":"Vote","callback_data":"` + data + `"}]]}`
	}
	cmds := func(command, desc string) string {
		return `[{"command":"` + command + `","description":"` + desc + `"}]`
	}
	send := func(extra ...string) []string { return append([]string{"chat_id", "1001"}, extra...) }

	tests := []struct {
		name         string
		method       string
		params       []string
		wantStatus   int
		wantDesc     string // substring of the description; "" for success
		wantRejected bool
	}{
		{name: "unknown method is 404", method: "sendMessages", params: send("text", "x"),
			wantStatus: 404, wantDesc: "Not Found", wantRejected: true},
		{name: "method names are case-insensitive", method: "SENDMESSAGE", params: send("text", "x"), wantStatus: 200},
		{name: "old method name still answered", method: "getChatMembersCount", params: []string{"chat_id", "-1001234567890"}, wantStatus: 200},
		{name: "missing chat_id", method: "sendMessage", params: []string{"text", "hi"},
			wantStatus: 400, wantDesc: "Bad Request: chat_id is empty", wantRejected: true},
		{name: "missing text", method: "sendMessage", params: send(),
			wantStatus: 400, wantDesc: "Bad Request: message text is empty", wantRejected: true},
		{name: "blank text after HTML parsing", method: "sendMessage", params: send("text", "<b> </b>\n", "parse_mode", "HTML"),
			wantStatus: 400, wantDesc: "Bad Request: message text is empty", wantRejected: true},
		{name: "integer parameter not an integer", method: "deleteMessage", params: send("message_id", "abc"),
			wantStatus: 400, wantDesc: "invalid message_id specified", wantRejected: true},
		{name: "boolean parameter not a boolean", method: "sendMessage", params: send("text", "x", "disable_notification", "yes"),
			wantStatus: 400, wantDesc: "invalid disable_notification specified", wantRejected: true},
		{name: "legacy boolean checked too", method: "sendMessage", params: send("text", "x", "disable_web_page_preview", "maybe"),
			wantStatus: 400, wantDesc: "invalid disable_web_page_preview specified", wantRejected: true},
		{name: "what tgbotapi sends is accepted", method: "sendMessage",
			params: send("text", "x", "entities", "null", "disable_web_page_preview", "true",
				"allow_sending_without_reply", "true", "reply_to_message_id", "999"),
			wantStatus: 200},
		{name: "reply to a missing message", method: "sendMessage", params: send("text", "x", "reply_to_message_id", "999"),
			wantStatus: 400, wantDesc: "message to be replied not found"},
		{name: "unknown extra parameters are ignored", method: "sendMessage", params: send("text", "x", "colour", "blue"), wantStatus: 200},
		{name: "reply_markup not JSON", method: "sendMessage", params: send("text", "x", "reply_markup", "{"),
			wantStatus: 400, wantDesc: "can't parse reply keyboard markup JSON object", wantRejected: true},
		{name: "reply_markup of the wrong shape", method: "sendMessage", params: send("text", "x", "reply_markup", `{"inline_keyboard":{}}`),
			wantStatus: 400, wantDesc: `"reply_markup.inline_keyboard" must be an Array`, wantRejected: true},
		{name: "inline keyboard null", method: "sendMessage", params: send("text", "x", "reply_markup", `{"inline_keyboard":null}`),
			wantStatus: 400, wantDesc: `"reply_markup.inline_keyboard" of InlineKeyboardMarkup is required`, wantRejected: true},
		{name: "button without action", method: "sendMessage", params: send("text", "x", "reply_markup", `{"inline_keyboard":[[{"text":"x"}]]}`),
			wantStatus: 400, wantDesc: "Text buttons are unallowed in the inline keyboard", wantRejected: true},
		{name: "button text missing", method: "sendMessage", params: send("text", "x", "reply_markup", `{"inline_keyboard":[[{"callback_data":"x"}]]}`),
			wantStatus: 400, wantDesc: `"reply_markup.inline_keyboard[0][0].text" of InlineKeyboardButton is required`, wantRejected: true},
		{name: "callback_data of 65 bytes", method: "sendMessage", params: send("text", "x", "reply_markup", kb(a(65))),
			wantStatus: 400, wantDesc: "Bad Request: BUTTON_DATA_INVALID", wantRejected: true},
		{name: "callback_data of 64 bytes", method: "sendMessage", params: send("text", "x", "reply_markup", kb(a(64))), wantStatus: 200},
		{name: "callback_data counts bytes not characters", method: "sendMessage", params: send("text", "x", "reply_markup", kb(strings.Repeat("đ", 33))),
			wantStatus: 400, wantDesc: "BUTTON_DATA_INVALID", wantRejected: true},
		{name: "empty callback_data", method: "sendMessage", params: send("text", "x", "reply_markup", kb("")),
			wantStatus: 400, wantDesc: "BUTTON_DATA_INVALID", wantRejected: true},
		{name: "reply keyboard accepted", method: "sendMessage", params: send("text", "x", "reply_markup", `{"keyboard":[[{"text":"Yes"}]],"resize_keyboard":true}`), wantStatus: 200},
		{name: "remove keyboard accepted", method: "sendMessage", params: send("text", "x", "reply_markup", `{"remove_keyboard":true}`), wantStatus: 200},
		{name: "text of 4097 characters", method: "sendMessage", params: send("text", a(4097)),
			wantStatus: 400, wantDesc: "Bad Request: message is too long", wantRejected: true},
		{name: "text of 4096 characters", method: "sendMessage", params: send("text", a(4096)), wantStatus: 200},
		{name: "4096 characters after removing tags", method: "sendMessage", params: send("text", "<b>"+a(4096)+"</b>", "parse_mode", "HTML"), wantStatus: 200},
		{name: "4096 characters after decoding entities", method: "sendMessage", params: send("text", strings.Repeat("&amp;", 4096), "parse_mode", "HTML"), wantStatus: 200},
		{name: "4097 characters after parsing", method: "sendMessage", params: send("text", "<i>"+a(4097)+"</i>", "parse_mode", "HTML"),
			wantStatus: 400, wantDesc: "message is too long", wantRejected: true},
		{name: "length in UTF-16 code units: 4096", method: "sendMessage", params: send("text", emoji(2048)), wantStatus: 200},
		{name: "length in UTF-16 code units: 4098", method: "sendMessage", params: send("text", emoji(2049)),
			wantStatus: 400, wantDesc: "message is too long", wantRejected: true},
		{name: "caption of 1025 characters", method: "sendDocument", params: send("document", "https://example.com/a.pdf", "caption", a(1025)),
			wantStatus: 400, wantDesc: "Bad Request: message caption is too long", wantRejected: true},
		{name: "caption of 1024 characters", method: "sendDocument", params: send("document", "https://example.com/a.pdf", "caption", a(1024)), wantStatus: 200},
		{name: "unknown file_id", method: "sendDocument", params: send("document", "no-such-file"),
			wantStatus: 400, wantDesc: "wrong file identifier/HTTP URL specified"},
		{name: "callback answer of 201 characters", method: "answerCallbackQuery", params: []string{"callback_query_id", "1", "text", a(201)},
			wantStatus: 400, wantDesc: "text must be 0-200 characters, got 201", wantRejected: true},
		{name: "callback answer of 200 characters passes validation", method: "answerCallbackQuery", params: []string{"callback_query_id", "1", "text", a(200)},
			wantStatus: 400, wantDesc: "query is too old and response timeout expired or query ID is invalid"},
		{name: "HTML unknown tag", method: "sendMessage", params: send("text", "<foo>x</foo>", "parse_mode", "HTML"),
			wantStatus: 400, wantDesc: `Bad Request: can't parse entities: Unsupported start tag "foo" at byte offset 0`, wantRejected: true},
		{name: "HTML br is not supported", method: "sendMessage", params: send("text", "a<br>b", "parse_mode", "HTML"),
			wantStatus: 400, wantDesc: `Unsupported start tag "br"`, wantRejected: true},
		{name: "HTML unclosed tag", method: "sendMessage", params: send("text", "<b>x", "parse_mode", "HTML"),
			wantStatus: 400, wantDesc: `Can't find end tag corresponding to start tag "b"`, wantRejected: true},
		{name: "HTML mismatched tags", method: "sendMessage", params: send("text", "<b><i>x</b></i>", "parse_mode", "HTML"),
			wantStatus: 400, wantDesc: `Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`, wantRejected: true},
		{name: "HTML raw less-than", method: "sendMessage", params: send("text", "1 < 2", "parse_mode", "HTML"),
			wantStatus: 400, wantDesc: "can't parse entities", wantRejected: true},
		{name: "HTML raw ampersand", method: "sendMessage", params: send("text", "R&D", "parse_mode", "HTML"),
			wantStatus: 400, wantDesc: `can't parse entities: unescaped "&" at byte offset 1`, wantRejected: true},
		{name: "HTML escaped text accepted", method: "sendMessage", params: send("text", "1 &lt; 2 &amp;&amp; R&amp;D &quot;q&quot; &#39;x&#x27; >", "parse_mode", "HTML"), wantStatus: 200},
		{name: "HTML span needs the spoiler class", method: "sendMessage", params: send("text", "<span>x</span>", "parse_mode", "HTML"),
			wantStatus: 400, wantDesc: `Tag "span" must have class "tg-spoiler"`, wantRejected: true},
		{name: "HTML all supported tags", method: "sendMessage",
			params: send("text", `<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>`+
				`<span class="tg-spoiler">p</span><tg-spoiler>t</tg-spoiler><a href="https://t.me/x?start=a&amp;b">l</a>`+
				`<code>c</code><pre><code class="language-go">x := 1</code></pre><blockquote expandable>q</blockquote>`+
				`<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>`, "parse_mode", "HTML"), wantStatus: 200},
		{name: "unsupported parse_mode", method: "sendMessage", params: send("text", "x", "parse_mode", "HTML5"),
			wantStatus: 400, wantDesc: "Bad Request: unsupported parse_mode", wantRejected: true},
		{name: "MarkdownV2 reserved character", method: "sendMessage", params: send("text", "Hello.", "parse_mode", "MarkdownV2"),
			wantStatus: 400, wantDesc: `Character '.' is reserved and must be escaped with the preceding '\'`, wantRejected: true},
		{name: "MarkdownV2 escaped character", method: "sendMessage", params: send("text", `*Hello*\.`, "parse_mode", "MarkdownV2"), wantStatus: 200},
		{name: "command with capitals", method: "setMyCommands", params: []string{"commands", cmds("Start", "Begin")},
			wantStatus: 400, wantDesc: "Bad Request: BOT_COMMAND_INVALID", wantRejected: true},
		{name: "command of 33 characters", method: "setMyCommands", params: []string{"commands", cmds(a(33), "x")},
			wantStatus: 400, wantDesc: "BOT_COMMAND_INVALID", wantRejected: true},
		{name: "command description empty", method: "setMyCommands", params: []string{"commands", cmds("start", "")},
			wantStatus: 400, wantDesc: "BOT_COMMAND_DESCRIPTION_INVALID", wantRejected: true},
		{name: "command description of 257 characters", method: "setMyCommands", params: []string{"commands", cmds("start", a(257))},
			wantStatus: 400, wantDesc: "BOT_COMMAND_DESCRIPTION_INVALID", wantRejected: true},
		{name: "commands within limits", method: "setMyCommands", params: []string{"commands", cmds(a(32), a(256))}, wantStatus: 200},
		{name: "commands null", method: "setMyCommands", params: []string{"commands", "null"},
			wantStatus: 400, wantDesc: "commands is empty", wantRejected: true},
		{name: "unknown command scope", method: "setMyCommands", params: []string{"commands", cmds("start", "x"), "scope", `{"type":"everyone"}`},
			wantStatus: 400, wantDesc: `unsupported type "everyone"`, wantRejected: true},
		{name: "chat scope needs chat_id", method: "setMyCommands", params: []string{"commands", cmds("start", "x"), "scope", `{"type":"chat"}`},
			wantStatus: 400, wantDesc: `"scope.chat_id" of BotCommandScopeChat is required`, wantRejected: true},
		{name: "getUpdates limit 0", method: "getUpdates", params: []string{"limit", "0"},
			wantStatus: 400, wantDesc: "limit must be between 1 and 100", wantRejected: true},
		{name: "getUpdates limit 101", method: "getUpdates", params: []string{"limit", "101"},
			wantStatus: 400, wantDesc: "limit must be between 1 and 100", wantRejected: true},
		{name: "getUpdates limit 100", method: "getUpdates", params: []string{"limit", "100"}, wantStatus: 200},
		{name: "webhook secret with a space", method: "setWebhook", params: []string{"url", "https://example.com/hook", "secret_token", "a b"},
			wantStatus: 400, wantDesc: "secret token contains unallowed characters", wantRejected: true},
		{name: "webhook secret of 257 characters", method: "setWebhook", params: []string{"url", "https://example.com/hook", "secret_token", a(257)},
			wantStatus: 400, wantDesc: "secret token must be 1-256 characters", wantRejected: true},
		{name: "webhook URL without a host", method: "setWebhook", params: []string{"url", "hook"},
			wantStatus: 400, wantDesc: "An HTTPS URL must be provided for webhook", wantRejected: true},
		{name: "unknown chat is a state error", method: "sendMessage", params: []string{"chat_id", "424242", "text", "x"},
			wantStatus: 400, wantDesc: "Bad Request: chat not found"},
		{name: "not-implemented method returning True succeeds", method: "setChatTitle", params: []string{"chat_id", "-1001234567890", "title", "T"}, wantStatus: 200},
		{name: "not-implemented method returning an object is refused", method: "sendLocation", params: send("latitude", "21.03", "longitude", "105.85"),
			wantStatus: 400, wantDesc: "not supported by the stand-in", wantRejected: true},
		{name: "not-implemented method still validated", method: "setChatTitle", params: []string{"chat_id", "-1001234567890", "title", a(129)},
			wantStatus: 400, wantDesc: "title must be 1-128 characters, got 129", wantRejected: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, env := post(t, s, tt.method, tt.params...)
			if status != tt.wantStatus {
				t.Fatalf("status = %d (%q), want %d", status, env.Description, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusOK {
				if !env.OK {
					t.Fatalf("ok = false, want true")
				}
			} else {
				if env.OK || env.ErrorCode != tt.wantStatus {
					t.Errorf("envelope ok=%v error_code=%d, want ok=false error_code=%d", env.OK, env.ErrorCode, tt.wantStatus)
				}
				if !strings.Contains(env.Description, tt.wantDesc) {
					t.Errorf("description = %q, want it to contain %q", env.Description, tt.wantDesc)
				}
			}
			reqs := s.Requests()
			if got := reqs[len(reqs)-1]; got.Rejected != tt.wantRejected {
				t.Errorf("Rejected = %v, want %v", got.Rejected, tt.wantRejected)
			}
		})
	}
}

func TestWrongTokenIsUnauthorized(t *testing.T) {
	s := newServer(t)
	status, env := callToken(t, s, "123:wrong", "getMe")
	if status != http.StatusUnauthorized || env.ErrorCode != 401 || env.Description != "Unauthorized" {
		t.Errorf("got %d %d %q, want 401 401 \"Unauthorized\"", status, env.ErrorCode, env.Description)
	}
}

func TestJSONAndQueryStringRequests(t *testing.T) {
	s := newServer(t)
	resp, err := http.Post(s.URL()+"/bot"+s.Token()+"/sendMessage", "application/json",
		strings.NewReader(`{"chat_id":1001,"text":"json body","disable_notification":true,"reply_markup":{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("JSON body: status %d, want 200", resp.StatusCode)
	}
	resp, err = http.Get(s.URL() + "/bot" + s.Token() + "/sendMessage?chat_id=1001&text=query+string")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("query string: status %d, want 200", resp.StatusCode)
	}
	msgs := s.BotMessages(alice)
	if len(msgs) != 2 || msgs[0].Text != "json body" || msgs[1].Text != "query string" {
		t.Fatalf("bot messages = %+v, want the two texts", msgs)
	}
	if got := msgs[0].ReplyMarkup; len(got) != 1 || got[0][0] != (Button{Text: "A", CallbackData: "a"}) {
		t.Errorf("keyboard = %+v, want one button A/a", got)
	}
	if n := len(s.Rejections()); n != 0 {
		t.Errorf("rejections = %d, want 0", n)
	}
}
