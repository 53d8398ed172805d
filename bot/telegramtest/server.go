// Package telegramtest is an in-process stand-in for the Telegram Bot API,
// served by net/http/httptest.
//
// It exists so that the bot can be tested end to end — and demonstrated
// offline by `committeebot demo` — against something that behaves like the
// real server rather than like a mock that accepts anything. It validates
// every request against the official Bot API facts (a table generated from
// the published API description: methods, parameters, types, required
// flags and documented limits), parses HTML and Markdown the way Telegram
// does before counting text length, and keeps the state the bot's requests
// act on: users, private chats, groups and their members, messages, callback
// queries, the update queue, the webhook and the command menus. Errors use
// the official envelope, status codes and wording, so the bot's error
// handling (403 blocked, 400 not modified, 409 conflicts, 429 retry_after,
// 5xx retries) is exercised for real.
//
// A test (or the demo) drives the "users" side through methods such as
// SendText and PressButton, and observes the bot through Messages,
// WaitBotMessage, Subscribe, Requests and Rejections. A well-behaved bot
// produces no Rejections.
//
// Where the stand-in knowingly differs from the real server:
//   - Text lengths are counted in UTF-16 code units, the unit of entity
//     offsets, for every "N characters" limit.
//   - In HTML mode a "&" that starts no character entity is an error
//     (Telegram keeps it literally): it betrays unescaped user text.
//   - Integers outside a documented range (getUpdates limit 0 or 101) are
//     rejected where the real server may clamp them; booleans must be
//     true, false, 1 or 0.
//   - Webhooks may use plain http:// URLs and get one delivery at a time,
//     in update order, whatever max_connections says.
//   - Inline messages (inline_message_id) are not supported. Methods the
//     stand-in does not implement succeed when they return True and are
//     refused (and counted as rejections) otherwise.
//
// The package is production code (the demo uses it), so it does not import
// testing and needs nothing outside the module at run time.
package telegramtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Default identity of the bot.
const (
	defaultToken       = "7000000001:AAStandInTokenForOfflineTests_0001"
	defaultBotID       = 7000000001
	defaultBotUsername = "committee_test_bot"
	defaultBotName     = "Committee Bot"
)

// Option configures a Server.
type Option func(*config)

type config struct {
	token           string
	botUsername     string
	rateLimits      bool
	now             func() time.Time
	whMin, whMax    time.Duration
	whTimeout       time.Duration
	callbackTimeout time.Duration
	log             *slog.Logger
	profile         Profile
}

// WithToken sets the bot token. The digits before the colon become the
// bot's user id, as with real tokens.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithBotUser sets the bot's username (without @).
func WithBotUser(username string) Option {
	return func(c *config) { c.botUsername = strings.TrimPrefix(username, "@") }
}

// WithRateLimits turns Telegram's flood limits on (off by default): about
// 30 messages per second overall, 1 per second per chat with a small burst,
// and 20 per minute per group. Exceeding one answers 429 with retry_after.
func WithRateLimits(on bool) Option { return func(c *config) { c.rateLimits = on } }

// WithClock sets the clock used for message dates, rate limits, callback
// query expiry and webhook error dates. Long-poll and webhook retry waits
// use real time, since they pace real HTTP traffic.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithWebhookRetry sets the backoff between failed webhook deliveries:
// it starts at minDelay and doubles up to maxDelay. Defaults: 50ms and 2s.
func WithWebhookRetry(minDelay, maxDelay time.Duration) Option {
	return func(c *config) { c.whMin, c.whMax = minDelay, maxDelay }
}

// WithWebhookTimeout bounds one webhook delivery (default 10s); a slower
// answer counts as a failed delivery.
func WithWebhookTimeout(d time.Duration) Option { return func(c *config) { c.whTimeout = d } }

// WithCallbackQueryTimeout makes answerCallbackQuery fail with "query is
// too old" once d has passed on the clock since the button was pressed.
// Zero (the default) never expires queries.
func WithCallbackQueryTimeout(d time.Duration) Option {
	return func(c *config) { c.callbackTimeout = d }
}

// WithLogger sets the logger for request traces (at debug level). The
// token is never logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// Server is a running Bot API stand-in. All methods are safe for
// concurrent use.
type Server struct {
	srv             *httptest.Server
	token           string
	bot             User
	now             func() time.Time
	log             *slog.Logger
	rateLimits      bool
	whMin, whMax    time.Duration
	callbackTimeout time.Duration

	closing   chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	poster    webhookPoster

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every state change
	st       state
	requests []Request
	faults   faultQueues
	limiter  limiter
	subs     map[*subscriber]struct{}
	eventSeq uint64 // the last Event's Seq
}

// New starts a stand-in on a local port. Close it when done.
func New(opts ...Option) *Server {
	cfg := config{
		token:       defaultToken,
		botUsername: defaultBotUsername,
		now:         time.Now,
		whMin:       50 * time.Millisecond,
		whMax:       2 * time.Second,
		whTimeout:   10 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	if cfg.whMin <= 0 {
		cfg.whMin = time.Millisecond
	}
	if cfg.whMax < cfg.whMin {
		cfg.whMax = cfg.whMin
	}
	botID := int64(defaultBotID)
	if id, _, ok := strings.Cut(cfg.token, ":"); ok {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 {
			botID = n
		}
	}
	s := &Server{
		token:           cfg.token,
		bot:             User{ID: botID, FirstName: defaultBotName, Username: cfg.botUsername, IsBot: true},
		now:             cfg.now,
		log:             cfg.log,
		rateLimits:      cfg.rateLimits,
		whMin:           cfg.whMin,
		whMax:           cfg.whMax,
		callbackTimeout: cfg.callbackTimeout,
		closing:         make(chan struct{}),
		poster:          newWebhookPoster(cfg.whTimeout),
		changed:         make(chan struct{}),
		faults:          faultQueues{},
		limiter:         newLimiter(),
		subs:            map[*subscriber]struct{}{},
	}
	s.st.init(s.bot, s.now)
	s.st.restoreLocked(cfg.profile)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.wg.Add(1)
	go s.webhookLoop()
	return s
}

// Close stops the server: pending long polls return, webhook delivery
// stops, subscriptions are closed.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.poster.cancel()
		s.srv.Close()
		s.wg.Wait()
		if t, ok := s.poster.client.Transport.(*http.Transport); ok {
			t.CloseIdleConnections()
		}
		s.mu.Lock()
		subs := s.subs
		s.subs = map[*subscriber]struct{}{}
		s.mu.Unlock()
		for sub := range subs {
			sub.stop()
		}
	})
}

// URL is the base URL of the server, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.srv.URL }

// Endpoint is the API endpoint format for tgbotapi.NewBotAPIWithAPIEndpoint
// and NewBotAPIWithClient: URL() + "/bot%s/%s".
func (s *Server) Endpoint() string { return s.srv.URL + "/bot%s/%s" }

// FileEndpoint is the file download format, URL() + "/file/bot%s/%s".
func (s *Server) FileEndpoint() string { return s.srv.URL + "/file/bot%s/%s" }

// Token is the bot token the server accepts.
func (s *Server) Token() string { return s.token }

// Bot is the bot's own user, as getMe reports it.
func (s *Server) Bot() User { return s.bot }

// apiError is an error answered with the official envelope.
type apiError struct {
	code       int
	desc       string
	retryAfter int
	// rejected marks a broken contract (see Request.Rejected).
	rejected bool
}

func (e *apiError) Error() string { return e.desc }

// badRequest is a 400 caused by the request itself (counted in Rejections).
func badRequest(format string, args ...any) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: "Bad Request: " + fmt.Sprintf(format, args...), rejected: true}
}

// stateError is a 400 that depends on the server's state (not a contract
// violation): message not found, not modified, chat not found.
func stateError(format string, args ...any) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: "Bad Request: " + fmt.Sprintf(format, args...)}
}

// forbidden is a 403 (blocked, not started, kicked).
func forbidden(desc string) *apiError {
	return &apiError{code: http.StatusForbidden, desc: "Forbidden: " + desc}
}

// call is one request in flight.
type call struct {
	ctx    context.Context
	method *Method
	params map[string]string
	files  map[string]upload
	// parsed caches texts parsed during validation, by parameter name.
	parsed map[string]formatted
}

// reply is a successful result.
type reply struct {
	result      any
	description string // optional, e.g. "Webhook was set"
}

type handlerFunc func(s *Server, c *call) (reply, error)

// handlers maps canonical method names to their implementations; filled by
// init functions of the files implementing them.
var handlers = map[string]handlerFunc{}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if strings.HasPrefix(r.URL.Path, "/file/bot") {
		s.serveFile(w, r)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	if !ok {
		writeError(w, &apiError{code: http.StatusNotFound, desc: "Not Found"})
		return
	}
	token, name, _ := strings.Cut(rest, "/")
	params, files, perr := parseRequest(r)
	rec := Request{Method: name, Params: params, Files: fileNames(files), Time: s.now()}
	var (
		rep reply
		err error
	)
	switch {
	case token != s.token:
		err = &apiError{code: http.StatusUnauthorized, desc: "Unauthorized", rejected: true}
	case perr != nil:
		err = badRequest("%v", perr)
	default:
		rep, err = s.invoke(r.Context(), name, params, files, &rec)
	}
	if errors.Is(err, errClientGone) {
		rec.Status = 499
		rec.Description = "client closed the request"
		s.record(rec)
		return
	}
	// Record before answering, so that a client reading Requests right
	// after its call sees it.
	var ae *apiError
	if err != nil {
		if !errors.As(err, &ae) {
			ae = &apiError{code: http.StatusInternalServerError, desc: "Internal Server Error"}
		}
		rec.Status, rec.Description, rec.Rejected = ae.code, ae.desc, ae.rejected
	} else {
		rec.Status = http.StatusOK
	}
	s.record(rec)
	switch fe, isFault := err.(*faultError); {
	case err == nil:
		writeResult(w, rep)
	case isFault && fe.body != "":
		w.WriteHeader(ae.code)
		_, _ = w.Write([]byte(fe.body))
	default:
		writeError(w, ae)
	}
	s.log.Debug("telegramtest request", "method", rec.Method, "status", rec.Status,
		"description", rec.Description, "duration", time.Since(start))
}

// invoke runs one API call through the pipeline shared by HTTP requests and
// webhook replies: method lookup, injected faults, validation, rate limits,
// the method's handler.
func (s *Server) invoke(ctx context.Context, name string, params map[string]string, files map[string]upload, rec *Request) (reply, error) {
	m, ok := LookupMethod(name)
	if !ok {
		return reply{}, &apiError{code: http.StatusNotFound, desc: "Not Found", rejected: true}
	}
	rec.Method = m.Name
	s.trackInFlight(m.Name, 1)
	defer s.trackInFlight(m.Name, -1)
	if err := s.applyFault(ctx, m.Name); err != nil {
		return reply{}, err
	}
	c := &call{ctx: ctx, method: m, params: params, files: files, parsed: map[string]formatted{}}
	if err := c.validate(); err != nil {
		return reply{}, err
	}
	if err := s.checkRateLimit(c); err != nil {
		return reply{}, err
	}
	h, ok := handlers[m.Name]
	if !ok {
		if m.ReturnsTrue() {
			return reply{result: true}, nil
		}
		return reply{}, badRequest("method %s is not supported by the stand-in", m.Name)
	}
	return h(s, c)
}

func (s *Server) trackInFlight(method string, delta int) {
	s.mu.Lock()
	s.st.inFlight[method] += delta
	s.st.mostInFlight[method] = max(s.st.mostInFlight[method], s.st.inFlight[method])
	s.bumpLocked()
	s.mu.Unlock()
}

// InFlight is the number of calls of method ("" for all methods) the
// server is processing right now — including calls held by a Fault's
// Delay and long polls waiting for updates.
func (s *Server) InFlight(method string) int {
	if m, ok := LookupMethod(method); ok {
		method = m.Name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if method != "" {
		return s.st.inFlight[method]
	}
	n := 0
	for _, v := range s.st.inFlight {
		n += v
	}
	return n
}

// MostInFlight is the largest number of calls of method the server was
// processing at once since it started: a test asking whether two
// replicas ever long-polled together reads it once at the end instead of
// sampling InFlight, which can miss a short overlap.
func (s *Server) MostInFlight(method string) int {
	if m, ok := LookupMethod(method); ok {
		method = m.Name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.mostInFlight[method]
}

func (s *Server) record(rec Request) {
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.bumpLocked()
	s.mu.Unlock()
}

// Requests returns every request received so far, in the order they were
// answered. Parameters are as sent; the token is never part of them.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneRequests(s.requests, func(Request) bool { return true })
}

// Rejections returns the requests that broke the Bot API contract (see
// Request.Rejected). A well-behaved bot has none.
func (s *Server) Rejections() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneRequests(s.requests, func(r Request) bool { return r.Rejected })
}

func cloneRequests(in []Request, keep func(Request) bool) []Request {
	var out []Request
	for _, r := range in {
		if !keep(r) {
			continue
		}
		cp := r
		cp.Params = make(map[string]string, len(r.Params))
		for k, v := range r.Params {
			cp.Params[k] = v
		}
		if r.Files != nil {
			cp.Files = make(map[string]string, len(r.Files))
			for k, v := range r.Files {
				cp.Files[k] = v
			}
		}
		out = append(out, cp)
	}
	return out
}

type okEnvelope struct {
	OK          bool   `json:"ok"`
	Result      any    `json:"result"`
	Description string `json:"description,omitempty"`
}

type errEnvelope struct {
	OK          bool            `json:"ok"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *respParameters `json:"parameters,omitempty"`
}

type respParameters struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

func writeResult(w http.ResponseWriter, r reply) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(okEnvelope{OK: true, Result: r.result, Description: r.description})
}

func writeError(w http.ResponseWriter, e *apiError) {
	env := errEnvelope{ErrorCode: e.code, Description: e.desc}
	if e.retryAfter > 0 {
		env.Parameters = &respParameters{RetryAfter: e.retryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.code)
	_ = json.NewEncoder(w).Encode(env)
}

// bumpLocked wakes everything waiting for a state change. s.mu must be held.
func (s *Server) bumpLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// changes returns the channel closed at the next state change.
func (s *Server) changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}
