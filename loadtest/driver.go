package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/committeebot/committeebot/bot/telegramtest"
)

// Telegram's side of the webhook, as the driver plays it.
const (
	// maxConnections is how many deliveries Telegram keeps in flight to
	// one webhook: setWebhook's max_connections, 40 unless set (the bot
	// does not set it).
	maxConnections = 40
	// deliveryAttempts bounds how often one update is posted; Telegram
	// retries a failed delivery (network error, non-2xx) too.
	deliveryAttempts = 8
	// postTimeout bounds one delivery: the bot answers once the update is
	// handled, and a handler may take up to 30 s.
	postTimeout = 75 * time.Second
	// chatPace spaces the driver's actions that make the bot post in one
	// chat, after a burst of chatBurst. Telegram allows one message a
	// second per chat; the bot paces at exactly that, so commands that
	// come faster only make its handlers wait, and arrival jitter at the
	// limit earns the odd 429. A human is not faster than this either.
	chatPace  = 1050 * time.Millisecond
	chatBurst = 3
	// secretHeader carries telegram.webhook.secret_token on every delivery.
	secretHeader = "X-Telegram-Bot-Api-Secret-Token"
)

// driver plays Telegram and its users: it creates users' messages and
// button presses in the stand-in (so the bot's replies, edits and answers
// are checked and accepted there) and posts the updates to the bot's
// webhook itself, with the secret header, at the moments it chooses.
type driver struct {
	tg     *telegramtest.Server
	client *http.Client
	secret string
	conns  chan struct{}

	mu      sync.Mutex
	targets []string
	paces   map[int64]*rate.Limiter

	rr       atomic.Uint64
	posted   atomic.Int64
	retried  atomic.Int64
	failures atomic.Int64
}

func newDriver(tg *telegramtest.Server, secret string) *driver {
	return &driver{
		tg:     tg,
		secret: secret,
		client: &http.Client{
			Timeout: postTimeout,
			Transport: &http.Transport{
				MaxIdleConns:        2 * maxConnections,
				MaxIdleConnsPerHost: maxConnections,
				IdleConnTimeout:     30 * time.Second,
			},
		},
		conns: make(chan struct{}, maxConnections),
		paces: map[int64]*rate.Limiter{},
	}
}

// setTargets sets the webhook URLs deliveries go to, round robin (a load
// balancer in front of the replicas).
func (d *driver) setTargets(urls ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.targets = append([]string(nil), urls...)
}

func (d *driver) target() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.targets) == 0 {
		return ""
	}
	return d.targets[int(d.rr.Add(1)-1)%len(d.targets)]
}

func (d *driver) close() { d.client.CloseIdleConnections() }

// delivery is the outcome of delivering one update.
type delivery struct {
	posted   time.Time // the first POST began (after waiting for a connection)
	answered time.Time // the last POST returned
	attempts int
}

// deliver posts one update like Telegram: over at most maxConnections
// connections, again on failure (to the next replica) with a growing
// pause, at most deliveryAttempts times.
func (d *driver) deliver(ctx context.Context, update []byte) (delivery, error) {
	var dl delivery
	pause := 100 * time.Millisecond
	var last error
	for dl.attempts < deliveryAttempts {
		dl.attempts++
		if dl.attempts > 1 {
			d.retried.Add(1)
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return dl, fmt.Errorf("deliver update: %w (last: %w)", ctx.Err(), last)
			}
			pause = min(2*pause, 2*time.Second)
		}
		select {
		case d.conns <- struct{}{}:
		case <-ctx.Done():
			return dl, fmt.Errorf("deliver update: %w", ctx.Err())
		}
		if dl.posted.IsZero() {
			dl.posted = time.Now()
		}
		last = d.postOnce(ctx, d.target(), update)
		<-d.conns
		dl.answered = time.Now()
		if last == nil {
			d.posted.Add(1)
			return dl, nil
		}
	}
	d.failures.Add(1)
	return dl, fmt.Errorf("deliver update: %d attempts: %w", dl.attempts, last)
}

func (d *driver) postOnce(ctx context.Context, url string, update []byte) error {
	if url == "" {
		return fmt.Errorf("no webhook to post to")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(update))
	if err != nil {
		return fmt.Errorf("post update: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(secretHeader, d.secret)
	resp, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("post update: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post update: webhook answered %d", resp.StatusCode)
	}
	// The bot answers a button press in its answer to the webhook
	// request; Telegram would make that call for it.
	d.tg.ExecuteWebhookReply(body)
	return nil
}

// pace waits until the driver may make the bot post in chat again (see
// chatPace).
func (d *driver) pace(ctx context.Context, chat int64) error {
	d.mu.Lock()
	l, ok := d.paces[chat]
	if !ok {
		l = rate.NewLimiter(rate.Every(chatPace), chatBurst)
		d.paces[chat] = l
	}
	d.mu.Unlock()
	if err := l.Wait(ctx); err != nil {
		return fmt.Errorf("pace chat %d: %w", chat, err)
	}
	return nil
}

// replyTimeout bounds the wait for an expected reply: a reply may wait
// for Telegram's limits (a group takes 20 messages a minute).
const replyTimeout = 2 * time.Minute

// say sends text as user in chat and delivers it. paceChats are the chats
// the command makes the bot post in. It returns the user's message.
func (d *driver) say(ctx context.Context, chat, user int64, text string, paceChats ...int64) (telegramtest.Message, error) {
	for _, c := range paceChats {
		if err := d.pace(ctx, c); err != nil {
			return telegramtest.Message{}, err
		}
	}
	m, raw := d.tg.SendTextUpdate(chat, user, text)
	if _, err := d.deliver(ctx, raw); err != nil {
		return m, fmt.Errorf("%s: %w", firstWord(text), err)
	}
	return m, nil
}

// sayWant is say that waits for the bot's reply in chat matching want.
// The reply may come before the webhook answers (a bot that sends from
// its handlers) or after (a bot that queues its messages).
func (d *driver) sayWant(ctx context.Context, chat, user int64, text string, want func(telegramtest.Message) bool, paceChats ...int64) (telegramtest.Message, error) {
	m, err := d.say(ctx, chat, user, text, paceChats...)
	if err != nil {
		return telegramtest.Message{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, replyTimeout)
	defer cancel()
	reply, err := d.tg.WaitBotMessageAfter(wctx, chat, m.MessageID, want)
	if err == nil {
		return reply, nil
	}
	var got []string
	for _, b := range d.tg.BotMessages(chat) {
		if b.MessageID > m.MessageID {
			got = append(got, fmt.Sprintf("%q", truncate(b.Text, 120)))
		}
	}
	return telegramtest.Message{}, fmt.Errorf("%s in chat %d: no expected reply among %d (%s): %w",
		firstWord(text), chat, len(got), strings.Join(got, ", "), err)
}

// anyReply accepts any message.
func anyReply(telegramtest.Message) bool { return true }

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i > 0 {
		return s[:i]
	}
	return s
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
