// Package demo runs the whole bot offline for a person to try: an embedded
// Redis (miniredis), the project's Telegram Bot API stand-in and a terminal
// chat in which the person plays several members of the bloc from the seed
// article. The bot itself is the production App, unchanged.
package demo

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/alicebob/miniredis/v2"

	"golang.org/x/text/unicode/norm"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/config"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// botUsername is the demo bot's Telegram username.
const botUsername = "khoithidua_demo_bot"

// Run starts the embedded Redis, the stand-in and the bot, then reads lines
// from in until /quit or end of input, printing the bot's replies to out.
// Logs go to errOut at warning level and above unless log.level asks for
// more.
func Run(ctx context.Context, cfg *config.Config, in io.Reader, out, errOut io.Writer) error {
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return fmt.Errorf("demo: embedded redis: %w", err)
	}
	defer mr.Close()

	tg := telegramtest.New(telegramtest.WithBotUser(botUsername))
	defer tg.Close()
	tg.AddGroup(groupChat, groupMembers()...)
	for _, p := range people {
		tg.AddUser(p.user)
		tg.StartPrivate(p.user.ID)
	}

	c := *cfg
	c.Telegram.Token = config.Secret(tg.Token())
	c.Telegram.APIEndpoint = tg.Endpoint()
	c.Telegram.Mode = "polling"
	c.Telegram.PollTimeout = 10 * time.Second
	c.Redis.URL = config.SecretURL("redis://" + mr.Addr() + "/0")
	c.Redis.Sentinel = config.SentinelConfig{}
	c.Redis.Cluster = config.ClusterConfig{}
	c.Bot.Admins = append(append([]int64(nil), c.Bot.Admins...), secretaryID)
	if c.Log.Level == "info" {
		c.Log.Level = "warn"
	}
	c.Log.Format = "text"
	c.Reminders.MeetingOffsets = demoMeetingOffsets
	log := c.Logger(errOut)
	storage.SetRedisLogger(log)

	cat, err := i18n.New(c.Bot.Language)
	if err != nil {
		return err
	}
	rdb, err := storage.NewClient(storage.Options{URL: c.Redis.URL.Reveal()})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	err = seed(ctx, rdb, c.Redis.KeyPrefix, c.Bot.Location, c.Bot.Language)
	if err == nil {
		err = seedNominations(ctx, rdb, c.Redis.KeyPrefix)
	}
	if err == nil {
		err = seedMeetings(ctx, rdb, c.Redis.KeyPrefix, c.Bot.Location)
	}
	defer rdb.Close()
	if err != nil {
		return err
	}
	sealKey, err := demoSealKey(&c)
	if err != nil {
		return err
	}
	// No Telegram here, so none of its flood limits: the demo's replies
	// come as fast as the bot makes them (the outbox still carries them).
	// The chart right after the result: the demo has no burst of votes
	// to spare a core for, and shows what came after a command.
	a, err := app.New(&c, log, app.WithoutOps(), app.WithOutboxLimits(storage.OutboxLimits{}), app.WithChartDelay(0))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()

	t := newTerminal(tg, cat, c.Bot.Language, out, log)
	t.outbox = a.OutboxPending
	t.langs = storage.NewUsers(rdb, storage.NewKeys(c.Redis.KeyPrefix))
	t.interactive = isTerminal(in)
	// The secretary opens the year's ballots through the bot itself, as a
	// person would, before the demo user arrives: the election of the next
	// head unit and the approval of the Government Emulation Flag.
	t.silently(ctx, secretaryID, groupChat.ID, "/elect head deadline=7d", "/ballot_nominations CTD_CP deadline=7d")
	t.silently(ctx, secretaryID, groupChat.ID, upcomingMeeting(time.Now(), c.Bot.Location))
	if err := t.stageTiedElection(ctx, rdb, c.Redis.KeyPrefix, sealKey); err != nil {
		stop()
		<-done
		return err
	}
	err = t.loop(ctx, in)
	stop()
	if rerr := <-done; rerr != nil && err == nil {
		err = rerr
	}
	return err
}

func groupMembers() []telegramtest.Member {
	ms := make([]telegramtest.Member, 0, len(people))
	for _, p := range people {
		status := "member"
		if p.unit == "" {
			status = "creator"
		}
		ms = append(ms, telegramtest.Member{UserID: p.user.ID, Status: status})
	}
	return ms
}

// terminal is the chat loop: who is typing, where, and what the bot said.
type terminal struct {
	tg   *telegramtest.Server
	cat  *i18n.Catalog
	lang string
	// defaultLang is bot.language, for chats without a choice.
	defaultLang string
	out         io.Writer
	log         *slog.Logger
	dir         string

	mu      sync.Mutex
	current int   // index into people
	chatID  int64 // where the current person types
	// lastKB is the latest message with buttons in each chat; mine the
	// latest shown in answer to a person's own command or press, in a
	// chat: the one a number presses, so that a reminder arriving in
	// between does not take the press.
	lastKB map[int64]telegramtest.Message
	mine   map[pressKey]telegramtest.Message
	// answering is set while the bot answers the current person's line.
	answering bool
	// langs tells the demo's own lines which language the bot speaks in
	// the current chat (nil: always lang).
	langs  Languages
	events <-chan telegramtest.Event
	// seen is the Seq of the last event read from events (or, at first,
	// the stand-in's last before the terminal subscribed).
	seen uint64
	// interactive is set when a person types at a terminal.
	interactive bool
	cancel      func()
	// outbox counts the bot's messages still waiting to be sent (Telegram's
	// limits pace them), so the terminal waits for them too.
	outbox func(context.Context) (int, error)
}

func newTerminal(tg *telegramtest.Server, cat *i18n.Catalog, lang string, out io.Writer, log *slog.Logger) *terminal {
	ev, cancel := tg.Subscribe()
	return &terminal{tg: tg, cat: cat, lang: lang, defaultLang: lang, out: out, log: log, chatID: groupChat.ID, seen: tg.LastEventSeq(),
		lastKB: make(map[int64]telegramtest.Message), mine: make(map[pressKey]telegramtest.Message), events: ev, cancel: cancel}
}

// pressKey names a person in a chat.
type pressKey struct {
	chat   int64
	person int
}

// Languages reads the languages the bot keeps: a group's, and a person's
// choice (/lang) and Telegram app's.
type Languages interface {
	ChatLanguage(ctx context.Context, chatID int64) (string, error)
	Languages(ctx context.Context, userID int64) (chosen, seen string, err error)
}

// refreshLang makes the demo's own lines follow the language the bot
// speaks where the current person types: the group's, or the person's
// (their /lang, else their Telegram app's).
func (t *terminal) refreshLang(ctx context.Context) {
	if t.langs == nil {
		return
	}
	lang := t.defaultLang
	if t.chatID == groupChat.ID {
		if l, err := t.langs.ChatLanguage(ctx, groupChat.ID); err == nil && i18n.Supported(l) {
			lang = l
		}
	} else {
		p := people[t.current].user
		chosen, _, err := t.langs.Languages(ctx, p.ID)
		switch {
		case err == nil && i18n.Supported(chosen):
			lang = chosen
		case i18n.Supported(p.LanguageCode):
			lang = p.LanguageCode
		}
	}
	t.lang = lang
}

func (t *terminal) say(id string, data i18n.Data) {
	fmt.Fprintln(t.out, toTerminal(t.cat.T(t.lang, id, data)))
}

func (t *terminal) loop(ctx context.Context, in io.Reader) error {
	defer t.cancel()
	t.say("demo_banner", nil)
	fmt.Fprintln(t.out)
	t.whoami()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for {
		t.refreshLang(ctx)
		t.prompt()
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case line, ok = <-lines:
		case ev, open := <-t.events:
			// Messages the bot sends by itself (reminders) show up while
			// the person is idle, as they would in Telegram.
			if open {
				t.seen = ev.Seq
				t.print(ev)
			} else {
				t.events = nil
			}
			continue
		}
		if !ok {
			fmt.Fprintln(t.out)
			t.say("demo_bye", nil)
			return nil
		}
		line = strings.TrimSpace(line)
		if !t.interactive {
			// Piped input is not echoed by a terminal: show it, so the
			// transcript reads like a conversation.
			fmt.Fprintln(t.out, line)
		}
		if line == "" {
			continue
		}
		if quit := t.handle(ctx, line); quit {
			t.say("demo_bye", nil)
			return nil
		}
		t.answering = true
		t.drain(ctx)
		t.answering = false
	}
}

// silently sends commands as a person and lets the bot answer them
// without printing, to set the scene.
func (t *terminal) silently(ctx context.Context, userID, chatID int64, cmds ...string) {
	for _, cmd := range cmds {
		t.tg.SendText(chatID, userID, cmd)
		t.drainQuiet(ctx)
	}
}

func (t *terminal) prompt() {
	p := people[t.current]
	where := "👥"
	if t.chatID > 0 {
		where = "🔒"
	}
	fmt.Fprintf(t.out, "%s %s> ", where, p.user.FirstName)
}

func (t *terminal) whoami() {
	p := people[t.current]
	chat := t.cat.T(t.lang, "demo_chat_group", i18n.Data{"Title": groupChat.Title})
	if t.chatID > 0 {
		chat = t.cat.T(t.lang, "demo_chat_private", nil)
	}
	t.say("demo_now", i18n.Data{"Name": fullName(p.user), "Chat": i18n.Raw(chat)})
}

// handle runs one line; it reports whether the person asked to quit.
func (t *terminal) handle(ctx context.Context, line string) bool {
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch strings.ToLower(cmd) {
	case "/quit", "/exit":
		return true
	case "/users":
		t.listUsers()
		return false
	case "/as":
		if i, ok := t.findPerson(arg); ok {
			t.current = i
			if t.chatID > 0 {
				t.chatID = people[i].user.ID
			}
			t.refreshLang(ctx)
			t.whoami()
		} else if arg == "" {
			t.listUsers()
		} else {
			t.say("demo_unknown_user", i18n.Data{"Name": arg})
		}
		return false
	case "/chat":
		switch strings.ToLower(arg) {
		case "group", "nhom", "nhóm":
			t.chatID = groupChat.ID
		case "private", "rieng", "riêng":
			t.chatID = people[t.current].user.ID
		default:
			t.say("demo_unknown_chat", nil)
			return false
		}
		t.refreshLang(ctx)
		t.whoami()
		return false
	}
	if n, err := strconv.Atoi(line); err == nil {
		t.press(n)
		return false
	}
	t.tg.SendText(t.chatID, people[t.current].user.ID, line)
	return false
}

func (t *terminal) listUsers() {
	t.say("demo_users_title", nil)
	for i, p := range people {
		role := t.cat.T(t.lang, "demo_role_secretary", nil)
		if p.unit != "" {
			role = t.cat.T(t.lang, "demo_role_delegate", i18n.Data{"Unit": p.unit})
		}
		t.say("demo_user_line", i18n.Data{"N": i + 1, "Name": fullName(p.user), "Role": i18n.Raw(role)})
	}
}

func (t *terminal) findPerson(arg string) (int, bool) {
	if arg == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(arg); err == nil && n >= 1 && n <= len(people) {
		return n - 1, true
	}
	a := fold(strings.TrimPrefix(arg, "@"))
	for i, p := range people {
		for _, name := range []string{p.user.FirstName, p.user.Username, p.unit, fullName(p.user), p.user.LastName + " " + p.user.FirstName} {
			if name != "" && fold(name) == a {
				return i, true
			}
		}
	}
	return 0, false
}

// fold is s for matching names as people type them: lower case, without
// Vietnamese diacritics ("Tuấn" and "tuan" match, "Đỗ" and "do").
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(strings.TrimSpace(s))) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'đ':
			b.WriteRune('d')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// press presses button n (counted across rows) of the latest bot message
// with buttons in the current chat. A URL button that deep-links to the
// bot is followed as Telegram would: /start <payload> in the private chat.
func (t *terminal) press(n int) {
	msg, btn, ok := t.target(n)
	if !ok {
		t.say("demo_no_button", i18n.Data{"N": n})
		return
	}
	user := people[t.current].user.ID
	t.say("demo_pressed", i18n.Data{"N": n, "Label": btn.Text, "Message": firstLine(msg)})
	if btn.URL != "" {
		if payload, ok := deepLinkPayload(btn.URL); ok {
			t.chatID = user
			t.tg.SendText(user, user, "/start "+payload)
		}
		return
	}
	t.tg.PressButton(msg.ChatID, user, msg.MessageID, btn.CallbackData)
}

// target is the message and its button n that a number presses: the
// latest message with buttons that answered the current person in the
// current chat, else the chat's latest message with buttons, as it now is.
func (t *terminal) target(n int) (telegramtest.Message, telegramtest.Button, bool) {
	t.mu.Lock()
	msg, ok := t.mine[pressKey{t.chatID, t.current}]
	if !ok {
		msg, ok = t.lastKB[t.chatID]
	}
	t.mu.Unlock()
	if !ok {
		return msg, telegramtest.Button{}, false
	}
	if cur, found := t.tg.Message(msg.ChatID, msg.MessageID); found {
		msg = cur
	}
	btn, found := buttonAt(msg, n)
	return msg, btn, found
}

// firstLine is the start of a message's first line, to name it.
func firstLine(m telegramtest.Message) string {
	line, _, _ := strings.Cut(strings.TrimSpace(m.Text), "\n")
	if r := []rune(line); len(r) > 50 {
		line = string(r[:49]) + "…"
	}
	return line
}

func buttonAt(m telegramtest.Message, n int) (telegramtest.Button, bool) {
	i := 0
	for _, row := range m.ReplyMarkup {
		for _, b := range row {
			i++
			if i == n {
				return b, true
			}
		}
	}
	return telegramtest.Button{}, false
}

func deepLinkPayload(url string) (string, bool) {
	prefix := "https://t.me/" + botUsername + "?start="
	if !strings.HasPrefix(url, prefix) {
		return "", false
	}
	return strings.TrimPrefix(url, prefix), true
}

// drainQuiet is drain without printing.
func (t *terminal) drainQuiet(ctx context.Context) { t.wait(ctx, false) }

// drain prints what the bot does in answer, waiting until the stand-in has
// no update pending and the bot has been quiet for a moment.
func (t *terminal) drain(ctx context.Context) { t.wait(ctx, true) }

func (t *terminal) wait(ctx context.Context, show bool) {
	const quiet = 200 * time.Millisecond
	deadline := time.Now().Add(15 * time.Second)
	timer := time.NewTimer(quiet)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-t.events:
			if !ok {
				return
			}
			t.seen = ev.Seq
			if show {
				// The bot may have switched the language of where the
				// person types (/lang) before it answered: the answer's
				// heading speaks the new one.
				t.refreshLang(ctx)
				t.print(ev)
			} else {
				t.remember(ev)
			}
			timer.Reset(quiet)
		case <-timer.C:
			if t.idle(ctx) || time.Now().After(deadline) {
				return
			}
			timer.Reset(quiet)
		}
	}
}

// idle reports whether the bot is done with what was typed: every update
// handled (Telegram's getUpdates confirmed it), nothing left to send, and
// every event of the stand-in read — an event still on its way to the
// terminal would otherwise be printed after the next line (seen under a
// busy machine, where the quiet timer and the event can be ready at once).
func (t *terminal) idle(ctx context.Context) bool {
	return t.tg.PendingUpdates() == 0 && t.outboxEmpty(ctx) && t.seen >= t.tg.LastEventSeq()
}

// outboxEmpty reports whether the bot has nothing left to send.
func (t *terminal) outboxEmpty(ctx context.Context) bool {
	if t.outbox == nil {
		return true
	}
	n, err := t.outbox(ctx)
	return err != nil || n == 0
}

func (t *terminal) where(chatID int64) string {
	if chatID == groupChat.ID {
		return t.cat.T(t.lang, "demo_chat_group", i18n.Data{"Title": groupChat.Title})
	}
	for _, p := range people {
		if p.user.ID == chatID {
			return t.cat.T(t.lang, "demo_to_private", i18n.Data{"Name": fullName(p.user)})
		}
	}
	return strconv.FormatInt(chatID, 10)
}

func (t *terminal) print(ev telegramtest.Event) {
	where := i18n.Raw(t.where(ev.ChatID))
	switch ev.Kind {
	case telegramtest.EventSend, telegramtest.EventDocument, telegramtest.EventPhoto:
		fmt.Fprintln(t.out)
		t.say("demo_from_bot", i18n.Data{"Where": where})
		t.body(ev.Message)
	case telegramtest.EventEdit:
		fmt.Fprintln(t.out)
		t.say("demo_edited", i18n.Data{"Where": where})
		t.body(ev.Message)
	case telegramtest.EventDelete:
		t.say("demo_deleted", i18n.Data{"Where": where})
	case telegramtest.EventAnswer:
		if ev.Callback != nil && ev.Callback.Text != "" {
			t.say("demo_answer", i18n.Data{"Text": ev.Callback.Text})
		}
	}
}

// remember keeps track of keyboards without printing.
func (t *terminal) remember(ev telegramtest.Event) {
	if len(ev.Message.ReplyMarkup) > 0 {
		t.mu.Lock()
		t.lastKB[ev.Message.ChatID] = ev.Message
		t.mu.Unlock()
	}
}

func (t *terminal) body(m telegramtest.Message) {
	text := m.Text
	if m.HTML != "" {
		text = toTerminal(m.HTML)
	}
	if text != "" {
		fmt.Fprintln(t.out, indent(text))
	}
	if d := m.Document; d != nil {
		t.file(m, d.FileName, d.Data, d.Caption)
	}
	if p := m.Photo; p != nil {
		// Telegram keeps no name for a photo: name it after its message.
		t.file(m, fmt.Sprintf("photo-%s-%d.%s", strings.TrimPrefix(strconv.FormatInt(m.ChatID, 10), "-"), m.MessageID, p.Format), p.Data, p.Caption)
	}
	if len(m.ReplyMarkup) > 0 {
		t.mu.Lock()
		t.lastKB[m.ChatID] = m
		if t.answering {
			t.mine[pressKey{m.ChatID, t.current}] = m
		}
		t.mu.Unlock()
		n := 0
		for _, row := range m.ReplyMarkup {
			var cells []string
			for _, b := range row {
				n++
				cells = append(cells, fmt.Sprintf("[%d] %s", n, b.Text))
			}
			fmt.Fprintln(t.out, "   "+strings.Join(cells, "   "))
		}
	}
}

// file saves a document's or photo's bytes and says where.
func (t *terminal) file(m telegramtest.Message, name string, data []byte, caption string) {
	path, err := t.save(name, data)
	if err != nil {
		t.log.Warn("demo: saving a file", "err", err.Error())
	}
	if caption != "" && m.HTML == "" { // a formatted caption was shown above
		fmt.Fprintln(t.out, indent(caption))
	}
	t.say("demo_document", i18n.Data{"Name": name, "Size": len(data), "Path": path})
}

func (t *terminal) save(name string, data []byte) (string, error) {
	if t.dir == "" {
		dir, err := os.MkdirTemp("", "committeebot-demo-")
		if err != nil {
			return "", err
		}
		t.dir = dir
	}
	path := filepath.Join(t.dir, filepath.Base(name))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", err
	}
	return path, nil
}

func indent(s string) string {
	return "   " + strings.ReplaceAll(s, "\n", "\n   ")
}

func fullName(u telegramtest.User) string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// isTerminal reports whether r is a terminal (a character device).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
