package bot

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// SecretTokenHeader is the header Telegram puts the webhook's secret_token
// in; it is how the bot tells Telegram's calls from anyone else's.
const SecretTokenHeader = "X-Telegram-Bot-Api-Secret-Token"

// WebhookSink handles one update received by the webhook and returns once
// it has been handled. An error makes the webhook answer 500, so Telegram
// delivers the update again later.
type WebhookSink interface {
	Handle(ctx context.Context, u Update) error
}

// defaultMaxWebhookBody is the largest request body accepted by default:
// Telegram's updates are a few KiB.
const defaultMaxWebhookBody = 1 << 20

// ErrDeliveriesCut is returned by ServeWebhook when deliveries were still
// being handled as its drain context ended: their connections were
// closed without an answer, so Telegram delivers their updates again.
var ErrDeliveriesCut = errors.New("webhook deliveries cut short by the end of the shutdown")

// WebhookOption tunes a Webhook.
type WebhookOption func(*Webhook)

// WithMaxBodyBytes sets the largest request body accepted (default 1 MiB).
func WithMaxBodyBytes(n int64) WebhookOption {
	return func(w *Webhook) {
		if n > 0 {
			w.maxBody = n
		}
	}
}

// WithWebhookLogger sets the logger for refused and failed deliveries.
func WithWebhookLogger(log *slog.Logger) WebhookOption {
	return func(w *Webhook) {
		if log != nil {
			w.log = log
		}
	}
}

// WebhookMetrics observes the webhook. The process wires it to Prometheus.
type WebhookMetrics interface {
	// WebhookRequest counts one request by result: ok (200), failed (500,
	// Telegram delivers the update again), unauthorized (401, wrong or
	// missing secret), closing (503, shutting down), malformed (400),
	// too_large (413) or method (405).
	WebhookRequest(result string)
	// WebhookReply counts a Bot API call made in a webhook's response
	// (answerCallbackQuery), which Telegram makes without telling its
	// result.
	WebhookReply(method string)
}

type noopWebhookMetrics struct{}

func (noopWebhookMetrics) WebhookRequest(string) {}
func (noopWebhookMetrics) WebhookReply(string)   {}

// WithWebhookMetrics sets the observer of webhook requests.
func WithWebhookMetrics(m WebhookMetrics) WebhookOption {
	return func(w *Webhook) {
		if m != nil {
			w.metrics = m
		}
	}
}

// Webhook is the http.Handler Telegram posts updates to. It replaces
// tgbotapi's ListenForWebhook, which registers on the global mux, checks no
// secret and answers before the update is handled (so a crash loses it).
//
// Here a request is accepted only with the right secret token, compared in
// constant time; the update is handled before the answer, and the answer
// tells Telegram whether to deliver it again (500, 503) or not (200, 4xx).
// Since nothing is kept between requests, several replicas can serve one
// webhook behind a load balancer.
type Webhook struct {
	sink    WebhookSink
	secret  [sha256.Size]byte
	noAuth  bool // no secret configured: refuse everything
	maxBody int64
	log     *slog.Logger
	metrics WebhookMetrics
	closing atomic.Bool
}

// NewWebhook returns the handler. An empty secret makes it refuse every
// request: an unauthenticated webhook would let anyone forge updates (votes
// included), so there is no way to turn the check off.
func NewWebhook(sink WebhookSink, secret string, opts ...WebhookOption) *Webhook {
	w := &Webhook{
		sink:    sink,
		secret:  sha256.Sum256([]byte(secret)),
		noAuth:  secret == "",
		maxBody: defaultMaxWebhookBody,
		log:     slog.New(slog.DiscardHandler),
		metrics: noopWebhookMetrics{},
	}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Close makes the webhook answer 503 from now on, so that Telegram keeps
// the updates that arrive during shutdown and delivers them again (to
// another replica, or to this one after restart).
func (w *Webhook) Close() { w.closing.Store(true) }

// ServeHTTP handles one delivery.
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.metrics.WebhookRequest(w.serve(rw, r))
}

// serve handles one delivery and names its result for WebhookMetrics.
func (w *Webhook) serve(rw http.ResponseWriter, r *http.Request) string {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
		return "method"
	}
	if !w.authorized(r.Header.Get(SecretTokenHeader)) {
		w.log.WarnContext(r.Context(), "webhook request with a wrong or missing secret token", "remote", r.RemoteAddr)
		http.Error(rw, "unauthorized", http.StatusUnauthorized)
		return "unauthorized"
	}
	if w.closing.Load() {
		http.Error(rw, "shutting down", http.StatusServiceUnavailable)
		return "closing"
	}

	var u Update
	raw, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, w.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(rw, "request body too large", http.StatusRequestEntityTooLarge)
			return "too_large"
		}
		http.Error(rw, "unreadable update", http.StatusBadRequest)
		return "malformed"
	}
	// Update.UnmarshalJSON checks and decodes in one pass (a Decoder
	// would scan the bytes once more first).
	if err := u.UnmarshalJSON(raw); err != nil {
		http.Error(rw, "malformed update", http.StatusBadRequest)
		return "malformed"
	}
	if u.UpdateID <= 0 {
		http.Error(rw, "update without update_id", http.StatusBadRequest)
		return "malformed"
	}

	// Telegram may hang up on a slow answer; the update is still handled
	// to the end rather than cut off half-way (a redelivery is deduped).
	ctx := context.WithoutCancel(r.Context())
	u.reply = &webhookReply{}
	if err := w.sink.Handle(ctx, u); err != nil {
		w.log.WarnContext(ctx, "webhook update failed; telegram will deliver it again",
			"update_id", u.UpdateID, "err", err.Error())
		http.Error(rw, "update not handled", http.StatusInternalServerError)
		return "failed"
	}
	if body := u.reply.body(); body != nil {
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusOK)
		_, _ = rw.Write(body)
		w.metrics.WebhookReply("answerCallbackQuery")
		return "ok"
	}
	rw.WriteHeader(http.StatusOK)
	return "ok"
}

// webhookReply is the one Bot API call the bot may make in its answer to a
// webhook request: Telegram makes it for the bot, without reporting its
// result. The bot uses it for the answer to a button press
// (answerCallbackQuery), whose result it does not need, so that a press
// costs no request of its own.
type webhookReply struct {
	mu   sync.Mutex
	call []byte
}

// answer takes the answer to callback query id; false when there is no
// slot (the update did not come through the Webhook) or it is taken.
func (w *webhookReply) answer(id string, a CallbackAnswer) bool {
	if w == nil {
		return false
	}
	body, err := json.Marshal(struct {
		Method    string `json:"method"`
		ID        string `json:"callback_query_id"`
		Text      string `json:"text,omitempty"`
		ShowAlert bool   `json:"show_alert,omitempty"`
	}{"answerCallbackQuery", id, a.Text, a.Alert})
	if err != nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.call != nil {
		return false
	}
	w.call = body
	return true
}

// body is the JSON of the call taken, nil when none.
func (w *webhookReply) body() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.call
}

// authorized compares the header with the secret in constant time. Both
// are hashed first so that not even the secret's length leaks through
// timing.
func (w *Webhook) authorized(got string) bool {
	if w.noAuth || got == "" {
		return false
	}
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], w.secret[:]) == 1
}

// secretTokenRE is the alphabet and length Telegram accepts for
// secret_token.
var secretTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// ErrBadSecretToken is returned by SetWebhook for a secret Telegram would
// refuse.
var ErrBadSecretToken = errors.New("webhook secret token must be 1-256 characters of A-Z, a-z, 0-9, _ and -")

// SetWebhook points Telegram at url with the secret token the Webhook
// checks. tgbotapi v5.5 has no secret_token, hence the raw Call.
// allowedUpdates nil keeps Telegram's current setting; dropPending discards
// the updates waiting at Telegram.
func SetWebhook(ctx context.Context, sender *Sender, url, secret string, allowedUpdates []string, dropPending bool) error {
	if url == "" {
		return errors.New("set telegram webhook: empty url")
	}
	if !secretTokenRE.MatchString(secret) {
		return fmt.Errorf("set telegram webhook: %w", ErrBadSecretToken)
	}
	params := tgbotapi.Params{
		"url":          url,
		"secret_token": secret,
	}
	if allowedUpdates != nil {
		b, err := json.Marshal(allowedUpdates)
		if err != nil {
			return fmt.Errorf("set telegram webhook: encode allowed_updates: %w", err)
		}
		params["allowed_updates"] = string(b)
	}
	if dropPending {
		params["drop_pending_updates"] = "true"
	}
	if _, err := sender.Call(ctx, "setWebhook", params); err != nil {
		return fmt.Errorf("set telegram webhook: %w", err)
	}
	return nil
}

// DeleteWebhook removes the webhook, e.g. before switching to polling.
func DeleteWebhook(ctx context.Context, sender *Sender, dropPending bool) error {
	params := tgbotapi.Params{}
	if dropPending {
		params["drop_pending_updates"] = "true"
	}
	if _, err := sender.Call(ctx, "deleteWebhook", params); err != nil {
		return fmt.Errorf("delete telegram webhook: %w", err)
	}
	return nil
}

// ServeWebhook serves h on listen until ctx ends, then shuts down
// gracefully until drain ends: the listener closes, a *Webhook (if h is
// one) answers 503 to what still comes in on open connections, and the
// deliveries being handled are waited for. If drain ends first, their
// connections are closed without an answer — Telegram delivers those
// updates again — and ServeWebhook returns ErrDeliveriesCut. drain is
// the shutdown's budget: it must not end before ctx does. It serves
// plain HTTP: TLS, which Telegram requires, is expected to end at the
// load balancer or ingress in front.
func ServeWebhook(ctx, drain context.Context, listen string, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("webhook listen on %s: %w", listen, err)
	}
	return ServeWebhookOn(ctx, drain, ln, h, log)
}

// ServeWebhookOn is ServeWebhook on a listener already open, which it
// closes.
func ServeWebhookOn(ctx, drain context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.InfoContext(ctx, "webhook server listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("webhook server: %w", err)
	case <-ctx.Done():
	}
	if c, ok := h.(interface{ Close() }); ok {
		c.Close()
	}
	if err := srv.Shutdown(drain); err != nil {
		_ = srv.Close()
		if drain.Err() == nil {
			return fmt.Errorf("webhook server shutdown: %w", err)
		}
		log.WarnContext(ctx, "webhook deliveries still being handled were cut off; telegram delivers them again")
		return ErrDeliveriesCut
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("webhook server: %w", err)
	}
	log.InfoContext(ctx, "webhook server stopped")
	return nil
}
