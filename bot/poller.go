package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// UpdateSink takes the updates the poller fetched. HandleBatch must return
// only once every update of the batch has been handled (or dropped because
// ctx ended): the poller confirms the batch to Telegram right after, and a
// confirmed update is never delivered again. It returns the lowest
// update_id it could not handle (its claim failed), or 0: the poller then
// confirms only the updates before it and fetches the rest again.
type UpdateSink interface {
	HandleBatch(ctx context.Context, updates []Update) (unhandled int)
}

// DefaultAllowedUpdates returns the update types the bot subscribes to;
// everything else (channel posts, inline queries, polls…) is never sent,
// which saves traffic and handler work.
func DefaultAllowedUpdates() []string {
	return []string{"message", "edited_message", "callback_query", "my_chat_member", "chat_member"}
}

// Polling defaults: a 50 s long poll keeps one request open at a time and
// answers within milliseconds of an update; the backoff reaches its cap
// after five failures in a row.
const (
	defaultPollTimeout    = 50 * time.Second
	defaultPollLimit      = 100
	defaultPollBackoffMin = time.Second
	defaultPollBackoffMax = 30 * time.Second
)

// PollerOption tunes a Poller.
type PollerOption func(*Poller)

// WithPollTimeout sets the long-poll timeout Telegram holds getUpdates open
// for (default 50s, whole seconds, at least 1s: without a long poll the
// loop would hammer the API). The HTTP client's timeout must be longer, or
// every quiet poll ends in a client-side timeout.
func WithPollTimeout(d time.Duration) PollerOption {
	return func(p *Poller) { p.timeout = max(d, time.Second) }
}

// WithPollLimit sets how many updates one getUpdates returns at most
// (1–100, default 100).
func WithPollLimit(n int) PollerOption {
	return func(p *Poller) {
		if n >= 1 && n <= 100 {
			p.limit = n
		}
	}
}

// WithAllowedUpdates replaces DefaultAllowedUpdates.
func WithAllowedUpdates(types ...string) PollerOption {
	return func(p *Poller) { p.allowed = append([]string{}, types...) }
}

// WithDeleteWebhook makes Run remove any webhook before polling: Telegram
// refuses getUpdates (409) while a webhook is set, so switching a bot from
// webhook to polling mode needs it. dropPending discards the updates
// waiting at Telegram.
func WithDeleteWebhook(dropPending bool) PollerOption {
	return func(p *Poller) {
		p.deleteWebhook = true
		p.dropPending = dropPending
	}
}

// WithPollBackoff sets the wait after a failed poll: it doubles from min
// with every failure in a row, up to max, and resets on success.
func WithPollBackoff(min, max time.Duration) PollerOption {
	return func(p *Poller) {
		if min > 0 {
			p.backoffMin = min
		}
		if max >= p.backoffMin {
			p.backoffMax = max
		}
	}
}

// WithPollSleep replaces the function the poller waits with between
// failures; tests record the waits instead of sleeping. It must return
// ctx's error if ctx ends first.
func WithPollSleep(sleep func(ctx context.Context, d time.Duration) error) PollerOption {
	return func(p *Poller) { p.sleep = sleep }
}

// PollMetrics observes the poller. The process wires it to Prometheus.
type PollMetrics interface {
	// GetUpdates counts one getUpdates call by result: ok, conflict (409:
	// another poller, or a webhook set), flood (429), rejected (the token)
	// or error (network, 5xx, anything else). A call given up because the
	// poller stopped is not counted.
	GetUpdates(result string)
}

type noopPollMetrics struct{}

func (noopPollMetrics) GetUpdates(string) {}

// WithPollMetrics sets the observer of getUpdates calls.
func WithPollMetrics(m PollMetrics) PollerOption {
	return func(p *Poller) {
		if m != nil {
			p.metrics = m
		}
	}
}

// WithPollLogger sets the logger for polling problems.
func WithPollLogger(log *slog.Logger) PollerOption {
	return func(p *Poller) {
		if log != nil {
			p.log = log
		}
	}
}

// Poller is the long-polling update loop. It replaces tgbotapi's
// GetUpdatesChan, which sleeps a fixed 3 s after any error, logs the token
// with the error, has no way to stop mid-poll and confirms updates as soon
// as they are read — before anyone handled them.
//
// Here the offset moves past an update only after the sink has handled the
// batch holding it, so an update lost to a crash is delivered again (the
// dedupe middleware stops it from acting twice). Failures back off
// exponentially; 429 waits retry_after; a 409 (another instance polling, or
// a webhook set) is logged once per streak; a rejected token ends Run.
type Poller struct {
	api     Doer
	token   string
	sink    UpdateSink
	log     *slog.Logger
	metrics PollMetrics
	sleep   func(context.Context, time.Duration) error

	timeout       time.Duration
	limit         int
	allowed       []string
	deleteWebhook bool
	dropPending   bool
	backoffMin    time.Duration
	backoffMax    time.Duration

	offset int // next update_id wanted; only Run's goroutine touches it
}

// NewPoller returns a poller fetching updates through api into sink. If api
// is a *tgbotapi.BotAPI its token is scrubbed from every error.
func NewPoller(api Doer, sink UpdateSink, opts ...PollerOption) *Poller {
	p := &Poller{
		api:        api,
		sink:       sink,
		log:        slog.New(slog.DiscardHandler),
		metrics:    noopPollMetrics{},
		sleep:      sleepContext,
		timeout:    defaultPollTimeout,
		limit:      defaultPollLimit,
		allowed:    DefaultAllowedUpdates(),
		backoffMin: defaultPollBackoffMin,
		backoffMax: defaultPollBackoffMax,
	}
	if b, ok := api.(*tgbotapi.BotAPI); ok && b != nil {
		p.token = b.Token
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Run polls until ctx ends, then returns nil once the batch being handled
// (if any) has been handled. It returns an error only for failures no
// retry can fix: a rejected token (wrapping ErrTokenRejected and the
// *APIError). A poll in flight when ctx ends is cancelled (on a client
// from NewClient the HTTP request itself, so that Telegram sees this poller
// go before another one starts); its updates were not confirmed, so
// Telegram delivers them again later.
func (p *Poller) Run(ctx context.Context) error {
	if p.deleteWebhook {
		if err := p.removeWebhook(ctx); err != nil {
			return err
		}
	}
	allowed, err := json.Marshal(p.allowed)
	if err != nil {
		return fmt.Errorf("poll telegram updates: encode allowed_updates: %w", err)
	}

	failures := 0
	stalls := 0 // batches in a row with an update left for redelivery
	conflict := false
	for {
		if ctx.Err() != nil {
			return nil
		}
		updates, err := p.fetch(ctx, string(allowed))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if IsTokenRejected(err) {
				return fmt.Errorf("poll telegram updates: %w: %w", ErrTokenRejected, err)
			}
			failures++
			wait := p.backoff(failures)
			if ae, ok := AsAPIError(err); ok && ae.Code == 409 {
				if !conflict {
					conflict = true
					p.log.ErrorContext(ctx, "telegram refused getUpdates: another instance is polling (or a webhook is set)",
						"err", err.Error())
				}
			} else if d, ok := IsTooManyRequests(err); ok {
				if d > 0 {
					wait = d
				}
				p.log.WarnContext(ctx, "telegram flood control on getUpdates", "retry_after", d)
			} else {
				p.log.WarnContext(ctx, "telegram getUpdates failed", "err", err.Error(), "failures", failures, "backoff", wait)
			}
			if p.sleep(ctx, wait) != nil {
				return nil
			}
			continue
		}
		if failures > 0 {
			p.log.InfoContext(ctx, "telegram polling recovered", "failures", failures)
			failures, conflict = 0, false
		}

		batch := updates[:0]
		next := p.offset
		for _, u := range updates {
			// Telegram never returns confirmed updates; this guards
			// against a stand-in or proxy that would.
			if u.UpdateID < p.offset {
				continue
			}
			batch = append(batch, u)
			next = max(next, u.UpdateID+1)
		}
		if len(batch) == 0 {
			continue
		}
		unhandled := p.sink.HandleBatch(ctx, batch)
		if ctx.Err() != nil {
			// The sink may have dropped part of the batch on
			// shutdown; leave it unconfirmed so it is delivered again.
			return nil
		}
		if unhandled > 0 {
			// Stay before the update whose claim failed: Telegram
			// delivers it (and those after it, which Dedupe skips if
			// handled) again, after a pause for the store to recover.
			p.offset = max(p.offset, unhandled)
			stalls++
			wait := p.backoff(stalls)
			p.log.WarnContext(ctx, "updates left unconfirmed for redelivery", "update_id", unhandled, "backoff", wait)
			if p.sleep(ctx, wait) != nil {
				return nil
			}
			continue
		}
		stalls = 0
		p.offset = next
	}
}

// fetch performs one getUpdates; it returns as soon as ctx ends (see
// callContext).
func (p *Poller) fetch(ctx context.Context, allowed string) ([]Update, error) {
	params := tgbotapi.Params{
		"limit":           strconv.Itoa(p.limit),
		"timeout":         strconv.Itoa(int(p.timeout / time.Second)),
		"allowed_updates": allowed,
	}
	if p.offset > 0 {
		params["offset"] = strconv.Itoa(p.offset)
	}
	resp, err := p.call(ctx, "getUpdates", params)
	if ctx.Err() == nil {
		p.metrics.GetUpdates(pollResult(err))
	}
	if err != nil {
		return nil, err
	}
	var updates []Update
	if err := json.Unmarshal(resp.Result, &updates); err != nil {
		return nil, fmt.Errorf("telegram getUpdates: decode result: %w", err)
	}
	return updates, nil
}

func (p *Poller) removeWebhook(ctx context.Context) error {
	params := tgbotapi.Params{}
	if p.dropPending {
		params["drop_pending_updates"] = "true"
	}
	_, err := p.call(ctx, "deleteWebhook", params)
	switch {
	case err == nil, ctx.Err() != nil:
		return nil
	case IsTokenRejected(err):
		return fmt.Errorf("delete telegram webhook: %w: %w", ErrTokenRejected, err)
	default:
		// Polling reports the conflict itself if the webhook stays.
		p.log.WarnContext(ctx, "deleting the telegram webhook failed", "err", err.Error())
		return nil
	}
}

func (p *Poller) call(ctx context.Context, method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error) {
	return callContext(ctx, p.api, p.token, method, params)
}

// pollResult names the outcome of one getUpdates for PollMetrics.
func pollResult(err error) string {
	if err == nil {
		return "ok"
	}
	if IsTokenRejected(err) {
		return "rejected"
	}
	if _, ok := IsTooManyRequests(err); ok {
		return "flood"
	}
	if ae, ok := AsAPIError(err); ok && ae.Code == 409 {
		return "conflict"
	}
	return "error"
}

func (p *Poller) backoff(failures int) time.Duration {
	d := p.backoffMin
	for i := 1; i < failures && d < p.backoffMax; i++ {
		d *= 2
	}
	return min(d, p.backoffMax)
}
