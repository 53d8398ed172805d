package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"golang.org/x/time/rate"
)

// ErrSenderClosed is returned by Sender calls made after Close or Flush:
// during shutdown new messages are refused instead of being lost half-sent.
var ErrSenderClosed = errors.New("telegram sender closed")

// Doer performs Bot API calls. *tgbotapi.BotAPI satisfies it; tests pass
// fakes. Request takes tgbotapi's config types (and uploads files);
// MakeRequest takes raw parameters, for Bot API fields newer than tgbotapi.
type Doer interface {
	Request(c tgbotapi.Chattable) (*tgbotapi.APIResponse, error)
	MakeRequest(endpoint string, params tgbotapi.Params) (*tgbotapi.APIResponse, error)
}

// SenderMetrics observes the sender. The process wires it to Prometheus;
// bot/ itself imports no metrics library.
type SenderMetrics interface {
	// Queued moves the number of calls waiting or in flight by delta.
	Queued(delta int)
	// TooManyRequests counts a 429 answer from Telegram.
	TooManyRequests(method string)
	// Retry counts a call repeated after a 5xx or network error.
	Retry(method string)
	// Result records the final outcome of a call (err nil on success).
	Result(method string, err error)
}

// Defaults follow Telegram's published limits: about 30 messages a second
// overall, one a second per chat, twenty a minute per group. The global
// rate keeps a small margin below 30 so that a long fan-out does not end
// its first burst with a 429.
const (
	defaultGlobalRate        = 28
	defaultPerChatRate       = 1
	defaultPerGroupPerMinute = 20
	defaultAttempts          = 5
	defaultBackoffBase       = 500 * time.Millisecond
	defaultBackoffMax        = 15 * time.Second

	// perChatBurst lets a handler answer with two or three messages at once
	// (a reply plus a follow-up) without a pause between them.
	perChatBurst = 3
	// editBurst is larger because edits answer button presses, where a
	// delay is what the user notices.
	editBurst = 5
	// maxFloodWaits bounds how many 429s one call waits out. Waiting is what
	// Telegram asks for, so these do not count as attempts, but a call must
	// end some day even without a context deadline.
	maxFloodWaits = 20
	// minChatIdle is the shortest idle time after which a chat's limiters
	// are dropped; see Sender.sweepLocked.
	minChatIdle = time.Minute
)

// SenderOption tunes a Sender.
type SenderOption func(*Sender)

// WithLimits sets the rate limits: global and perChat in messages per
// second, perGroupPerMinute for chats with negative ids (groups) and
// channels. rate.Inf (or a value <= 0) disables a limit.
func WithLimits(global, perChat rate.Limit, perGroupPerMinute int) SenderOption {
	return func(s *Sender) {
		s.globalRate = global
		s.chatRate = perChat
		s.groupPerMinute = perGroupPerMinute
	}
}

// WithRetries sets the maximum number of attempts per call for 5xx and
// network errors, the first attempt included (default 5; 1 disables
// retries). Waits on 429 do not count.
func WithRetries(attempts int) SenderOption {
	return func(s *Sender) {
		if attempts < 1 {
			attempts = 1
		}
		s.attempts = attempts
	}
}

// WithBackoff sets the exponential backoff between retries: the wait
// doubles from base up to max, and each actual wait is drawn between half
// of it and all of it so that many failing calls do not retry in lockstep.
func WithBackoff(base, max time.Duration) SenderOption {
	return func(s *Sender) {
		if base > 0 {
			s.backoffBase = base
		}
		if max >= s.backoffBase {
			s.backoffMax = max
		}
	}
}

// WithSleep replaces the function the sender waits with (rate limits,
// retry_after, backoff). Tests pass one that advances a fake clock instead
// of sleeping; it must return ctx's error if ctx ends first.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) SenderOption {
	return func(s *Sender) { s.sleep = sleep }
}

// WithClock replaces time.Now for the rate limiters and hold-backs; pair it
// with WithSleep.
func WithClock(now func() time.Time) SenderOption {
	return func(s *Sender) { s.now = now }
}

// WithLogger sets the logger for flood-control and retry events.
func WithLogger(log *slog.Logger) SenderOption {
	return func(s *Sender) {
		if log != nil {
			s.log = log
		}
	}
}

// WithMetrics reports the sender's activity to m; nil means none.
func WithMetrics(m SenderMetrics) SenderOption {
	return func(s *Sender) {
		if m != nil {
			s.metrics = m
		}
	}
}

// Sender is the single way the bot talks to the Bot API. Every outgoing
// call goes through it so that Telegram's limits are respected in one
// place: calls that post messages wait on a global limiter and on limiters
// of their chat (and group), edits on a gentler per-chat limiter, other
// calls (answerCallbackQuery, getChatMember…) are not slowed down. A 429
// makes the call wait retry_after and try again, and holds back its chat
// (or the whole sender, for calls without a chat) meanwhile; 5xx and
// network errors are retried with capped, jittered exponential backoff;
// other refusals return at once as *APIError. Errors never contain the bot
// token.
//
// A file given as tgbotapi.FileReader can be read only once, so calls
// uploading one are never repeated; use tgbotapi.FileBytes for documents
// that should survive a retry.
//
// Each attempt is bounded by the HTTP client's timeout, not by ctx:
// tgbotapi has no context support. ctx bounds the waits between attempts.
type Sender struct {
	api     Doer
	token   string
	log     *slog.Logger
	metrics SenderMetrics
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	jitter  func(time.Duration) time.Duration

	attempts       int
	backoffBase    time.Duration
	backoffMax     time.Duration
	globalRate     rate.Limit
	chatRate       rate.Limit
	groupPerMinute int
	chatIdle       time.Duration

	global *rate.Limiter

	mu         sync.Mutex
	chats      map[string]*chatLimits
	lastSweep  time.Time
	globalHold time.Time
	closed     bool
	inflight   int
	idleClosed bool
	idle       chan struct{} // closed once closed and nothing is in flight

	// abort is cancelled when Flush gives up, so that calls still waiting
	// on a limiter or a retry_after stop waiting.
	abort       context.Context
	cancelAbort context.CancelFunc
}

// chatLimits is the per-chat state. refs counts calls using it so that the
// sweeper never drops limiters a call is waiting on.
type chatLimits struct {
	send     *rate.Limiter
	group    *window // nil for private chats
	edit     *rate.Limiter
	hold     time.Time
	lastUsed time.Time
	refs     int
}

// NewSender returns a sender over api. If api is a *tgbotapi.BotAPI its
// token is scrubbed from every error.
func NewSender(api Doer, opts ...SenderOption) *Sender {
	s := &Sender{
		api:            api,
		log:            slog.New(slog.DiscardHandler),
		metrics:        noopSenderMetrics{},
		now:            time.Now,
		sleep:          sleepContext,
		jitter:         randomJitter,
		attempts:       defaultAttempts,
		backoffBase:    defaultBackoffBase,
		backoffMax:     defaultBackoffMax,
		globalRate:     defaultGlobalRate,
		chatRate:       defaultPerChatRate,
		groupPerMinute: defaultPerGroupPerMinute,
		chats:          make(map[string]*chatLimits),
		idle:           make(chan struct{}),
	}
	if b, ok := api.(*tgbotapi.BotAPI); ok && b != nil {
		s.token = b.Token
	}
	for _, o := range opts {
		o(s)
	}
	// A zero or negative rate would block forever; read it as "no limit".
	for _, l := range []*rate.Limit{&s.globalRate, &s.chatRate} {
		if *l <= 0 {
			*l = rate.Inf
		}
	}
	s.global = rate.NewLimiter(s.globalRate, max(1, int(min(s.globalRate, 1000))))
	s.chatIdle = max(minChatIdle,
		refillTime(s.chatRate, perChatBurst),
		refillTime(s.chatRate*2, editBurst),
		time.Minute)
	s.abort, s.cancelAbort = context.WithCancel(context.Background())
	return s
}

// Send performs c and decodes the message Telegram returns. Methods whose
// result is not a message (True for an inline edit, an array for a media
// group) give a zero Message and no error, so Send is safe for any call
// that posts or edits something.
func (s *Sender) Send(ctx context.Context, c tgbotapi.Chattable) (tgbotapi.Message, error) {
	method, resp, err := s.request(ctx, c)
	if err != nil {
		return tgbotapi.Message{}, err
	}
	var msg tgbotapi.Message
	res := bytes.TrimSpace(resp.Result)
	if len(res) == 0 || res[0] != '{' {
		return msg, nil
	}
	if err := json.Unmarshal(res, &msg); err != nil {
		return tgbotapi.Message{}, fmt.Errorf("telegram %s: decode message: %w", method, err)
	}
	return msg, nil
}

// Request performs c and returns Telegram's raw response. Use it for
// methods that return True (answerCallbackQuery, deleteMessage,
// setMyCommands…), which tgbotapi's Send would fail to decode.
func (s *Sender) Request(ctx context.Context, c tgbotapi.Chattable) (*tgbotapi.APIResponse, error) {
	_, resp, err := s.request(ctx, c)
	return resp, err
}

func (s *Sender) request(ctx context.Context, c tgbotapi.Chattable) (string, *tgbotapi.APIResponse, error) {
	if c == nil {
		return "", nil, errors.New("telegram: nil request")
	}
	method, chat := describeCall(c)
	replayable := !hasOneShotUpload(c)
	resp, err := s.do(ctx, method, chat, replayable, func() (*tgbotapi.APIResponse, error) {
		return s.api.Request(c)
	})
	return method, resp, err
}

// Call performs method with raw params, for parameters tgbotapi v5.5 does
// not know (secret_token, newer options). A "chat_id" parameter makes the
// call subject to that chat's limits like Request.
func (s *Sender) Call(ctx context.Context, method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error) {
	return s.do(ctx, method, params["chat_id"], true, func() (*tgbotapi.APIResponse, error) {
		return s.api.MakeRequest(method, params)
	})
}

// Close makes every later call fail with ErrSenderClosed. Calls already
// started go on; Flush waits for them.
func (s *Sender) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.signalIdleLocked()
}

// Flush closes the sender and waits until the calls in flight have
// finished, so that shutdown does not cut off replies to handled updates.
// If ctx ends first, calls still waiting for a rate limit, retry_after or
// backoff give up, and Flush returns ctx's error.
func (s *Sender) Flush(ctx context.Context) error {
	s.Close()
	select {
	case <-s.idle:
		return nil
	case <-ctx.Done():
		s.cancelAbort()
		return fmt.Errorf("flush telegram sender: %w", ctx.Err())
	}
}

func (s *Sender) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.inflight++
	return true
}

func (s *Sender) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight--
	s.signalIdleLocked()
}

func (s *Sender) signalIdleLocked() {
	if s.closed && s.inflight == 0 && !s.idleClosed {
		s.idleClosed = true
		close(s.idle)
	}
}

// do runs one call with limits and retries. chat is the chat_id as sent
// ("123", "-100…", "@channel"), empty when the call has none.
func (s *Sender) do(ctx context.Context, method, chat string, replayable bool, call func() (*tgbotapi.APIResponse, error)) (resp *tgbotapi.APIResponse, err error) {
	if !s.enter() {
		s.metrics.Result(method, ErrSenderClosed)
		return nil, ErrSenderClosed
	}
	defer s.leave()
	s.metrics.Queued(1)
	defer s.metrics.Queued(-1)
	defer func() { s.metrics.Result(method, err) }()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.abort, cancel)()

	kind := classifyMethod(method)
	cl := s.acquire(chat)
	defer s.release(cl)

	attempt, floods := 1, 0
	for {
		if werr := s.waitTurn(ctx, kind, cl); werr != nil {
			return nil, fmt.Errorf("telegram %s: wait for rate limit: %w", method, werr)
		}
		r, rawErr := invoke(ctx, kind, call)
		if rawErr == nil {
			return r, nil
		}
		err = toAPIError(method, r, rawErr, s.token)

		if d, ok := IsTooManyRequests(err); ok {
			s.metrics.TooManyRequests(method)
			if d <= 0 {
				d = time.Second
			}
			s.holdBack(cl, d)
			floods++
			s.log.WarnContext(ctx, "telegram flood control",
				"method", method, "chat_id", chat, "retry_after", d, "wait", floods)
			if floods > maxFloodWaits || !replayable {
				return nil, err
			}
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("%w; gave up waiting: %w", err, cerr)
			}
			continue
		}
		if !IsRetryable(err) || attempt >= s.attempts || !replayable {
			return nil, err
		}
		d := s.backoff(attempt)
		s.metrics.Retry(method)
		s.log.DebugContext(ctx, "telegram call failed, retrying",
			"method", method, "chat_id", chat, "attempt", attempt, "backoff", d, "err", err.Error())
		if serr := s.sleep(ctx, d); serr != nil {
			return nil, fmt.Errorf("%w; gave up retrying: %w", err, serr)
		}
		attempt++
	}
}

// waitTurn blocks until a hold-back from a 429 has passed and the call's
// limiters allow it. The most specific limiter is waited on first so that
// a call stuck behind its chat does not hold a global slot meanwhile.
func (s *Sender) waitTurn(ctx context.Context, kind callKind, cl *chatLimits) error {
	for {
		d := s.holdDelay(cl)
		if d <= 0 {
			break
		}
		if err := s.sleep(ctx, d); err != nil {
			return err
		}
	}
	// The most specific limit first: the chat's, then the group's window
	// (booked last among the per-chat limits so that its reservation is the
	// real send time), then the global one, which rarely makes anyone wait.
	switch kind {
	case kindSend:
		if cl != nil {
			if err := s.waitLimiter(ctx, cl.send); err != nil {
				return err
			}
			if cl.group != nil {
				if err := s.waitWindow(ctx, cl.group); err != nil {
					return err
				}
			}
		}
		if err := s.waitLimiter(ctx, s.global); err != nil {
			return err
		}
	case kindEdit:
		if cl != nil {
			if err := s.waitLimiter(ctx, cl.edit); err != nil {
				return err
			}
		}
		if err := s.waitLimiter(ctx, s.global); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// waitWindow waits for a slot in a group's sliding window.
func (s *Sender) waitWindow(ctx context.Context, w *window) error {
	now := s.now()
	at := w.reserve(now)
	d := at.Sub(now)
	if d <= 0 {
		return nil
	}
	if err := s.sleep(ctx, d); err != nil {
		w.cancel(at)
		return err
	}
	return nil
}

// waitLimiter is rate.Limiter.Wait on the injected clock and sleep.
func (s *Sender) waitLimiter(ctx context.Context, l *rate.Limiter) error {
	now := s.now()
	r := l.ReserveN(now, 1)
	if !r.OK() {
		return errors.New("rate limit has no burst")
	}
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	if err := s.sleep(ctx, d); err != nil {
		r.CancelAt(s.now())
		return err
	}
	return nil
}

func (s *Sender) holdDelay(cl *chatLimits) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	until := s.globalHold
	if cl != nil && cl.hold.After(until) {
		until = cl.hold
	}
	return until.Sub(s.now())
}

// holdBack makes every call of the chat (or, for calls without a chat,
// every call) wait d, as Telegram asked.
func (s *Sender) holdBack(cl *chatLimits, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	until := s.now().Add(d)
	if cl != nil {
		if until.After(cl.hold) {
			cl.hold = until
		}
		return
	}
	if until.After(s.globalHold) {
		s.globalHold = until
	}
}

func (s *Sender) backoff(attempt int) time.Duration {
	d := s.backoffBase
	for i := 1; i < attempt && d < s.backoffMax; i++ {
		d *= 2
	}
	d = min(d, s.backoffMax)
	half := d / 2
	return half + s.jitter(d-half)
}

// acquire returns the chat's limiters, creating them on first use.
func (s *Sender) acquire(chat string) *chatLimits {
	if chat == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweepLocked(now)
	cl, ok := s.chats[chat]
	if !ok {
		cl = &chatLimits{
			send: rate.NewLimiter(s.chatRate, perChatBurst),
			edit: rate.NewLimiter(s.chatRate*2, editBurst),
		}
		if isGroupChat(chat) && s.groupPerMinute > 0 {
			cl.group = newWindow(s.groupPerMinute, time.Minute)
		}
		s.chats[chat] = cl
	}
	cl.refs++
	cl.lastUsed = now
	return cl
}

func (s *Sender) release(cl *chatLimits) {
	if cl == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cl.refs--
	cl.lastUsed = s.now()
}

// sweepLocked drops the limiters of chats idle for chatIdle, at most once
// per chatIdle, so memory stays bounded by the chats active lately rather
// than every chat ever written to. chatIdle is at least the time an idle
// limiter takes to fill up again, so a dropped limiter and a fresh one
// allow exactly the same: dropping never loosens a limit.
func (s *Sender) sweepLocked(now time.Time) {
	if now.Sub(s.lastSweep) < s.chatIdle {
		return
	}
	s.lastSweep = now
	for k, cl := range s.chats {
		if cl.refs == 0 && now.Sub(cl.lastUsed) >= s.chatIdle && !cl.hold.After(now) && (cl.group == nil || cl.group.idle(now)) {
			delete(s.chats, k)
		}
	}
}

// trackedChats reports how many chats have limiters; for tests.
func (s *Sender) trackedChats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.chats)
}

func refillTime(l rate.Limit, burst int) time.Duration {
	if l == rate.Inf || l <= 0 {
		return 0
	}
	return time.Duration(float64(burst) / float64(l) * float64(time.Second))
}

// callKind says which limits a method is subject to.
type callKind int

// Call kinds, from the method name.
const (
	kindOther callKind = iota // not limited (answers, queries, settings)
	kindSend                  // posts a message into a chat
	kindEdit                  // changes a message already posted
)

// invoke makes one call. tgbotapi builds its HTTP requests without a
// context, so a call runs on until Telegram answers or the client's
// timeout (poll_timeout + 15 s) ends it. A call that is not a message — a
// query such as getChatMember, a setting, a button's answer — is given up
// when ctx's deadline passes instead, so that a handler out of time does
// not wait out a hung Telegram; it is harmless if it still arrives. A
// message or an edit is waited for: given up, it might still arrive, and
// the caller would send it again. So is any call whose ctx is cancelled
// (a shutdown): a handler cut short that way stays in its call, and its
// update, not recorded as done, is handled by the next instance.
func invoke(ctx context.Context, kind callKind, call func() (*tgbotapi.APIResponse, error)) (*tgbotapi.APIResponse, error) {
	if kind != kindOther {
		return call()
	}
	return awaitCall(ctx, call, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) })
}

func classifyMethod(method string) callKind {
	switch {
	case SendsMessage(method):
		return kindSend
	case EditsMessage(method):
		return kindEdit
	default:
		return kindOther
	}
}

// SendsMessage reports whether a Bot API method posts a message into a
// chat: the calls Telegram's message limits count.
func SendsMessage(method string) bool {
	return method != "sendChatAction" &&
		(strings.HasPrefix(method, "send") || method == "forwardMessage" || method == "copyMessage")
}

// EditsMessage reports whether a Bot API method changes a message
// already posted.
func EditsMessage(method string) bool {
	return strings.HasPrefix(method, "editMessage") || method == "stopPoll" || method == "stopMessageLiveLocation"
}

// isGroupChat reports whether a chat_id names a group, supergroup or
// channel: Telegram gives those negative ids, and channels may be named
// by @username.
func isGroupChat(chat string) bool {
	return strings.HasPrefix(chat, "-") || strings.HasPrefix(chat, "@")
}

// describeCall finds the Bot API method and chat_id of c. tgbotapi keeps
// both behind unexported methods; WriteToHTTPResponse is its public way of
// serialising a call (with the method name) and works for everything but
// uploads, which are named from their type instead.
func describeCall(c tgbotapi.Chattable) (method, chat string) {
	switch c := c.(type) {
	case tgbotapi.CallbackConfig:
		// Every button press makes one: no need to serialise it.
		return "answerCallbackQuery", ""
	case tgbotapi.EditMessageTextConfig:
		if c.InlineMessageID == "" {
			return "editMessageText", firstChat(c.ChatID, c.ChannelUsername)
		}
	}
	var w formRecorder
	if err := tgbotapi.WriteToHTTPResponse(&w, c); err == nil {
		if v, err := url.ParseQuery(w.body.String()); err == nil {
			return v.Get("method"), v.Get("chat_id")
		}
	}
	return uploadMethod(c), reflectChat(c)
}

// EncodeCall returns the Bot API method of c and its parameters as
// Telegram's form fields, through tgbotapi's public serialiser. It fails
// for calls that upload new files.
func EncodeCall(c tgbotapi.Chattable) (string, url.Values, error) {
	if e, ok := c.(tgbotapi.EditMessageTextConfig); ok {
		// The most frequent call (a vote's card, a post's turnout),
		// encoded without the round trip through a form.
		v, err := encodeEditText(e)
		return "editMessageText", v, err
	}
	var w formRecorder
	if err := tgbotapi.WriteToHTTPResponse(&w, c); err != nil {
		return "", nil, err
	}
	v, err := url.ParseQuery(w.body.String())
	if err != nil {
		return "", nil, err
	}
	method := v.Get("method")
	v.Del("method")
	return method, v, nil
}

// encodeEditText gives the parameters tgbotapi's serialiser gives an
// editMessageText (TestEncodeCallOfAnEditAsTgbotapiDoes holds them equal).
func encodeEditText(e tgbotapi.EditMessageTextConfig) (url.Values, error) {
	v := make(url.Values, 6)
	if e.InlineMessageID != "" {
		v.Set("inline_message_id", e.InlineMessageID)
	} else {
		if chat := firstChat(e.ChatID, e.ChannelUsername); chat != "" {
			v.Set("chat_id", chat)
		}
		if e.MessageID != 0 {
			v.Set("message_id", strconv.Itoa(e.MessageID))
		}
	}
	if e.ReplyMarkup != nil {
		b, err := json.Marshal(e.ReplyMarkup)
		if err != nil {
			return nil, err
		}
		v.Set("reply_markup", string(b))
	}
	v.Set("text", e.Text)
	if e.ParseMode != "" {
		v.Set("parse_mode", e.ParseMode)
	}
	if e.DisableWebPagePreview {
		v.Set("disable_web_page_preview", "true")
	}
	// tgbotapi sends entities even when there are none ("null").
	b, err := json.Marshal(e.Entities)
	if err != nil {
		return nil, err
	}
	v.Set("entities", string(b))
	return v, nil
}

// firstChat is the chat_id of a chat given by id or by @username.
func firstChat(id int64, username string) string {
	if id != 0 {
		return strconv.FormatInt(id, 10)
	}
	return username
}

// formRecorder is the minimal http.ResponseWriter describeCall needs.
type formRecorder struct {
	header http.Header
	body   bytes.Buffer
}

func (f *formRecorder) Header() http.Header {
	if f.header == nil {
		f.header = make(http.Header)
	}
	return f.header
}

func (f *formRecorder) Write(p []byte) (int, error) { return f.body.Write(p) }

func (f *formRecorder) WriteHeader(int) {}

// uploadMethod names the configs that can upload files.
func uploadMethod(c tgbotapi.Chattable) string {
	switch c.(type) {
	case tgbotapi.DocumentConfig:
		return "sendDocument"
	case tgbotapi.PhotoConfig:
		return "sendPhoto"
	case tgbotapi.AudioConfig:
		return "sendAudio"
	case tgbotapi.VideoConfig:
		return "sendVideo"
	case tgbotapi.AnimationConfig:
		return "sendAnimation"
	case tgbotapi.VoiceConfig:
		return "sendVoice"
	case tgbotapi.VideoNoteConfig:
		return "sendVideoNote"
	case tgbotapi.StickerConfig:
		return "sendSticker"
	case tgbotapi.MediaGroupConfig:
		return "sendMediaGroup"
	case tgbotapi.EditMessageMediaConfig:
		return "editMessageMedia"
	case tgbotapi.WebhookConfig:
		return "setWebhook"
	case tgbotapi.SetChatPhotoConfig:
		return "setChatPhoto"
	case tgbotapi.UploadStickerConfig:
		return "uploadStickerFile"
	case tgbotapi.NewStickerSetConfig:
		return "createNewStickerSet"
	case tgbotapi.AddStickerConfig:
		return "addStickerToSet"
	case tgbotapi.SetStickerSetThumbConfig:
		return "setStickerSetThumb"
	}
	t := reflect.TypeOf(c)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// reflectChat reads the ChatID (or ChannelUsername) field that every
// chat-bound tgbotapi config has, directly or through BaseChat/BaseEdit.
func reflectChat(c tgbotapi.Chattable) string {
	v := reflect.ValueOf(c)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	if f := v.FieldByName("ChatID"); f.IsValid() && f.CanInt() && f.Int() != 0 {
		return strconv.FormatInt(f.Int(), 10)
	}
	if f := v.FieldByName("ChannelUsername"); f.IsValid() && f.Kind() == reflect.String {
		return f.String()
	}
	return ""
}

// hasOneShotUpload reports whether c uploads a tgbotapi.FileReader, whose
// reader is consumed by the first attempt.
func hasOneShotUpload(c tgbotapi.Chattable) bool {
	if _, ok := c.(tgbotapi.Fileable); !ok {
		return false
	}
	return containsFileReader(reflect.ValueOf(c), 0)
}

var fileReaderType = reflect.TypeOf(tgbotapi.FileReader{})

func containsFileReader(v reflect.Value, depth int) bool {
	if !v.IsValid() || depth > 6 {
		return false
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return false
		}
		return containsFileReader(v.Elem(), depth+1)
	case reflect.Struct:
		if v.Type() == fileReaderType {
			return true
		}
		for i := range v.NumField() {
			if containsFileReader(v.Field(i), depth+1) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if containsFileReader(v.Index(i), depth+1) {
				return true
			}
		}
	}
	return false
}

// sleepContext waits d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func randomJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

type noopSenderMetrics struct{}

func (noopSenderMetrics) Queued(int)             {}
func (noopSenderMetrics) TooManyRequests(string) {}
func (noopSenderMetrics) Retry(string)           {}
func (noopSenderMetrics) Result(string, error)   {}

// uploader is the part of *tgbotapi.BotAPI that posts multipart uploads.
type uploader interface {
	UploadFiles(endpoint string, params tgbotapi.Params, files []tgbotapi.RequestFile) (*tgbotapi.APIResponse, error)
}

// Attempt makes one call now: no rate limit, no retry. The outbox keeps
// Telegram's limits in Redis for every replica and decides itself what a
// failure means, so it calls Telegram through Attempt. files are uploaded
// as multipart form fields. The error is an *APIError when Telegram
// answered, else the transport error; neither contains the token.
func (s *Sender) Attempt(ctx context.Context, method string, params tgbotapi.Params, files []tgbotapi.RequestFile) (resp *tgbotapi.APIResponse, err error) {
	if !s.enter() {
		s.metrics.Result(method, ErrSenderClosed)
		return nil, ErrSenderClosed
	}
	defer s.leave()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.metrics.Queued(1)
	defer s.metrics.Queued(-1)
	defer func() { s.metrics.Result(method, err) }()
	if len(files) > 0 {
		up, ok := s.api.(uploader)
		if !ok {
			return nil, fmt.Errorf("telegram %s: this client cannot upload files", method)
		}
		resp, err = up.UploadFiles(method, params, files)
	} else {
		resp, err = s.api.MakeRequest(method, params)
	}
	if err != nil {
		err = toAPIError(method, resp, err, s.token)
		if _, ok := IsTooManyRequests(err); ok {
			s.metrics.TooManyRequests(method)
		}
		return resp, err
	}
	return resp, nil
}
