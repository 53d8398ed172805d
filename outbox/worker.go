package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/storage"
)

// Store is what a Worker needs of the outbox; *storage.Outbox implements it.
type Store interface {
	// Claim books up to n items Telegram's limits allow now; see
	// storage.Outbox.Claim.
	Claim(ctx context.Context, n int, lease time.Duration) (storage.OutboxClaim, error)
	// Complete records a delivered item.
	Complete(ctx context.Context, d storage.OutboxDelivery, messageID int64) (storage.FinishResult, error)
	// Fail records an item that will not be delivered.
	Fail(ctx context.Context, d storage.OutboxDelivery, reason string) (storage.FinishResult, error)
	// Retry gives an item back for later. Returns storage.ErrNotHolder if
	// the claim was lost.
	Retry(ctx context.Context, d storage.OutboxDelivery, notBefore time.Time, holdAll, uncertain bool) error
	// Extend renews a claim while its call is in flight. Returns
	// storage.ErrNotHolder if the claim was lost.
	Extend(ctx context.Context, d storage.OutboxDelivery, lease time.Duration) error
}

// Caller makes one Bot API call; *bot.Sender implements it.
type Caller interface {
	Attempt(ctx context.Context, method string, params tgbotapi.Params, files []tgbotapi.RequestFile) (*tgbotapi.APIResponse, error)
}

var (
	_ Store  = (*storage.Outbox)(nil)
	_ Caller = (*bot.Sender)(nil)
)

// Metrics observes deliveries; the process wires it to Prometheus.
type Metrics interface {
	// OutboxDelivery counts one finished attempt by outcome: sent,
	// not_modified, refused, retry, flood, skipped, no_target, fenced.
	OutboxDelivery(outcome string)
	// OutboxLag observes the time from an item's claim to Telegram's answer.
	OutboxLag(d time.Duration)
}

// Defaults of a Worker.
const (
	// DefaultConcurrency bounds the calls one replica has in flight. At
	// Telegram's 30 messages a second and ~100 ms a call, a handful keep
	// up; more let slow uploads not hold back short answers.
	DefaultConcurrency = 16
	// DefaultLease is how long a claimed item is this worker's without
	// news from it. A call still in flight renews it every third of it,
	// so an item is taken over only from a worker that died, within a
	// lease.
	DefaultLease = 15 * time.Second
	// DefaultPoll is the longest a worker sleeps without being woken.
	// Each replica's Writer wakes its own worker, so what a replica queues
	// leaves at once; the poll is how soon the other replicas join in on a
	// backlog (or take over a dead replica's items), and what an idle
	// replica costs Redis: one claim script per poll.
	DefaultPoll = 500 * time.Millisecond
	// maxAttempts bounds how often a failing (5xx, network) item is tried.
	maxAttempts = 10
	backoffBase = 500 * time.Millisecond
	backoffMax  = 30 * time.Second
)

// Worker delivers outbox items. Every replica runs one; they share the
// items and Telegram's limits through Redis.
type Worker struct {
	store   Store
	api     Caller
	log     *slog.Logger
	metrics Metrics
	now     func() time.Time

	concurrency int
	lease       time.Duration
	poll        time.Duration

	wakeCh chan struct{}
	wg     sync.WaitGroup
}

// WorkerOption tunes a Worker.
type WorkerOption func(*Worker)

// WithConcurrency sets how many calls may be in flight at once.
func WithConcurrency(n int) WorkerOption { return func(w *Worker) { w.concurrency = max(n, 1) } }

// WithLease sets how long a claimed item stays this worker's.
func WithLease(d time.Duration) WorkerOption {
	return func(w *Worker) {
		if d > 0 {
			w.lease = d
		}
	}
}

// WithPoll sets the longest sleep between claims when not woken.
func WithPoll(d time.Duration) WorkerOption {
	return func(w *Worker) {
		if d > 0 {
			w.poll = d
		}
	}
}

// WithMetrics reports deliveries to m.
func WithMetrics(m Metrics) WorkerOption {
	return func(w *Worker) {
		if m != nil {
			w.metrics = m
		}
	}
}

// WithClock sets the clock used for retry times (tests).
func WithClock(now func() time.Time) WorkerOption {
	return func(w *Worker) {
		if now != nil {
			w.now = now
		}
	}
}

// NewWorker returns a worker delivering store's items through api.
func NewWorker(store Store, api Caller, log *slog.Logger, opts ...WorkerOption) *Worker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Worker{store: store, api: api, log: log, metrics: noopMetrics{}, now: time.Now,
		concurrency: DefaultConcurrency, lease: DefaultLease, poll: DefaultPoll, wakeCh: make(chan struct{}, 1)}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Wake tells the worker an item is waiting. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wakeCh <- struct{}{}:
	default:
	}
}

// Run delivers items until ctx ends, then waits for the calls in flight
// (each bounded by the HTTP client's timeout) and returns. Items still
// waiting stay in Redis for the next worker, here or on another replica.
func (w *Worker) Run(ctx context.Context) {
	slots := make(chan struct{}, w.concurrency)
	for range w.concurrency {
		slots <- struct{}{}
	}
	freed := make(chan struct{}, 1)
	errWait := time.Duration(0)
	for ctx.Err() == nil {
		free := len(slots)
		if free == 0 {
			select {
			case <-freed:
			case <-ctx.Done():
			}
			continue
		}
		c, err := w.store.Claim(ctx, free, w.lease)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			errWait = min(max(2*errWait, 100*time.Millisecond), 5*time.Second)
			w.log.WarnContext(ctx, "claiming outgoing messages failed; retrying", "err", err.Error(), "wait", errWait)
			w.pause(ctx, errWait, freed)
			continue
		}
		errWait = 0
		for _, d := range c.Items {
			<-slots
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				defer func() {
					slots <- struct{}{}
					select {
					case freed <- struct{}{}:
					default:
					}
				}()
				w.deliver(context.WithoutCancel(ctx), d)
			}()
		}
		if len(c.Items) > 0 {
			continue
		}
		wait := c.Wait
		if wait < 0 || wait > w.poll {
			wait = w.poll
		}
		if c.Blocked {
			// Nothing can leave before wait, whatever is queued or
			// finished meanwhile: a claim now would only find that out
			// again (under a burst, once per queued message).
			w.sleep(ctx, wait)
			continue
		}
		w.pause(ctx, wait, freed)
	}
	w.wg.Wait()
}

// sleep sleeps d or until ctx ends.
func (w *Worker) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// pause sleeps d, or until woken, a slot frees or ctx ends.
func (w *Worker) pause(ctx context.Context, d time.Duration, freed <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-w.wakeCh:
	case <-freed:
	case <-ctx.Done():
	}
}

// deliver makes one attempt at d and records what came of it.
func (w *Worker) deliver(ctx context.Context, d storage.OutboxDelivery) {
	if d.Uncertain {
		w.log.WarnContext(ctx, "outgoing message taken over from a worker that stopped; it may have reached Telegram",
			"item", d.ID, "chat_id", d.Chat, "send_again", !d.Once)
		if d.Once {
			w.finish(ctx, d, "skipped", func() (storage.FinishResult, error) { return w.store.Fail(ctx, d, "uncertain: not sent again") })
			return
		}
	}
	c, err := unmarshal(d.Body)
	if err != nil {
		w.finish(ctx, d, "refused", func() (storage.FinishResult, error) { return w.store.Fail(ctx, d, err.Error()) })
		return
	}
	if d.EditRef != "" {
		if d.RefMessage == 0 {
			w.finish(ctx, d, "no_target", func() (storage.FinishResult, error) { return w.store.Fail(ctx, d, "no message under "+d.EditRef) })
			return
		}
		c = c.withMessageID(d.RefMessage)
	}
	start := time.Now()
	stopRenew := w.renew(ctx, d)
	resp, err := w.api.Attempt(ctx, c.Method, c.params(), c.requestFiles())
	if err != nil && c.Params["message_thread_id"] != "" && topicGone(err) {
		// The bloc's topic was deleted or closed: the message goes to
		// the group's General topic rather than nowhere.
		w.log.InfoContext(ctx, "forum topic gone; sending to General", "chat_id", d.Chat, "method", c.Method, "err", err.Error())
		c = c.withoutThread()
		resp, err = w.api.Attempt(ctx, c.Method, c.params(), c.requestFiles())
	}
	stopRenew()
	w.metrics.OutboxLag(time.Since(start))
	switch {
	case err == nil:
		id := messageID(resp)
		w.finish(ctx, d, "sent", func() (storage.FinishResult, error) { return w.store.Complete(ctx, d, id) })
	case bot.IsNotModified(err):
		w.finish(ctx, d, "not_modified", func() (storage.FinishResult, error) { return w.store.Complete(ctx, d, 0) })
	case errors.Is(err, bot.ErrSenderClosed):
		w.retry(ctx, d, w.now(), false, "retry")
	default:
		if ra, ok := bot.IsTooManyRequests(err); ok {
			w.log.WarnContext(ctx, "telegram flood control; the chat waits", "chat_id", d.Chat, "retry_after", ra, "method", c.Method)
			w.retry(ctx, d, w.now().Add(max(ra, time.Second)), false, "flood")
			return
		}
		if bot.IsRetryable(err) && d.Attempt < maxAttempts {
			_, answered := bot.AsAPIError(err)
			w.log.InfoContext(ctx, "telegram call failed; will retry", "chat_id", d.Chat, "method", c.Method, "attempt", d.Attempt, "err", err.Error())
			w.retry(ctx, d, w.now().Add(backoff(d.Attempt)), !answered, "retry")
			return
		}
		// 400/403 and their kind are final: a blocked user, a deleted
		// chat, a message that is gone. Recorded, never retried.
		w.log.InfoContext(ctx, "telegram refused a message; not retried", "chat_id", d.Chat, "method", c.Method, "err", err.Error())
		w.finish(ctx, d, "refused", func() (storage.FinishResult, error) { return w.store.Fail(ctx, d, err.Error()) })
	}
}

// topicGone reports whether Telegram refused a message because its forum
// topic no longer takes messages (deleted, or closed).
func topicGone(err error) bool {
	ae, ok := bot.AsAPIError(err)
	if !ok || ae.Code != 400 {
		return false
	}
	d := strings.ToLower(ae.Description)
	return strings.Contains(d, "thread not found") || strings.Contains(d, "topic_closed") || strings.Contains(d, "topic_deleted")
}

// renew extends d's lease every third of it until the returned function
// is called.
func (w *Worker) renew(ctx context.Context, d storage.OutboxDelivery) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(w.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := w.store.Extend(ctx, d, w.lease); err != nil {
					w.log.WarnContext(ctx, "renewing the lease of a slow delivery failed", "item", d.ID, "err", err.Error())
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// finish records an outcome. A failure to record leaves the item to be
// taken over after its lease (as uncertain).
func (w *Worker) finish(ctx context.Context, d storage.OutboxDelivery, outcome string, record func() (storage.FinishResult, error)) {
	res, err := record()
	if err != nil {
		w.log.ErrorContext(ctx, "recording a delivery failed; it will be taken over after its lease", "item", d.ID, "err", err.Error())
		return
	}
	if res == storage.Fenced {
		w.log.WarnContext(ctx, "a delivery outlived its lease and was taken over", "item", d.ID)
		outcome = "fenced"
	}
	w.metrics.OutboxDelivery(outcome)
}

func (w *Worker) retry(ctx context.Context, d storage.OutboxDelivery, at time.Time, uncertain bool, outcome string) {
	if err := w.store.Retry(ctx, d, at, false, uncertain); err != nil {
		w.log.WarnContext(ctx, "giving a delivery back failed", "item", d.ID, "err", err.Error())
	}
	w.metrics.OutboxDelivery(outcome)
}

// backoff is the wait before attempt+1: doubling from backoffBase up to
// backoffMax, drawn between half and all of it so failures spread out.
func backoff(attempt int) time.Duration {
	d := backoffBase
	for i := 1; i < attempt && d < backoffMax; i++ {
		d *= 2
	}
	d = min(d, backoffMax)
	return d/2 + rand.N(d/2+1)
}

// messageID reads the id of the message a call returned (0 for True).
func messageID(resp *tgbotapi.APIResponse) int64 {
	if resp == nil {
		return 0
	}
	res := bytes.TrimSpace(resp.Result)
	if len(res) == 0 || res[0] != '{' {
		return 0
	}
	var m struct {
		MessageID int64 `json:"message_id"`
	}
	if err := json.Unmarshal(res, &m); err != nil {
		return 0
	}
	return m.MessageID
}

type noopMetrics struct{}

func (noopMetrics) OutboxDelivery(string)   {}
func (noopMetrics) OutboxLag(time.Duration) {}
