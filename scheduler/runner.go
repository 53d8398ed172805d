// Package scheduler runs deferred jobs — meeting reminders, ballot
// deadlines — kept in Redis by storage.Scheduler. Every replica runs a
// Runner: it ticks, claims a bounded batch of due jobs (each claim has a
// lease and a fencing token), dispatches each to the handler registered
// for its kind and acknowledges it with the token. A replica that dies
// holding jobs loses them when their leases expire and another replica
// claims them, so no leader election is needed.
//
// Jobs that send messages use Job.Deliver or FanOut: each message is
// reserved in the job's delivery log before it is sent and recorded after
// Telegram accepted it, so a job run again after a crash sends only what
// had not been sent. docs/ARCHITECTURE.md explains the one window left.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/committeebot/committeebot/storage"
)

// Store is the part of storage.Scheduler the runner uses.
type Store interface {
	Claim(ctx context.Context, owner string, max int, lease time.Duration) ([]storage.ClaimedJob, error)
	Ack(ctx context.Context, id string, token int64) error
	Retry(ctx context.Context, id string, token int64, at time.Time, failed bool) error
	Reserve(ctx context.Context, id string, token int64, key string, lease time.Duration) (storage.DeliveryState, error)
	Commit(ctx context.Context, id, key, ref string, failed bool) error
}

var _ Store = (*storage.Scheduler)(nil)

// HandlerFunc runs one job. Returning nil acknowledges it; an error makes
// it run again later (see WithRetries), unless it is ErrSuperseded or a
// Defer.
type HandlerFunc func(ctx context.Context, job *Job) error

// Metrics observes the runner; *metrics.Metrics implements it.
type Metrics interface {
	// JobDone records how a run ended: ok, failed, retried, dropped,
	// deferred, superseded, unknown_kind, interrupted.
	JobDone(kind, outcome string, lag time.Duration)
	// JobRedelivered counts a job claimed again after a lease expired.
	JobRedelivered(kind string)
	// Delivery records one delivery: sent, skipped (done before),
	// unreachable, uncertain (possibly sent before a crash), failed.
	Delivery(kind, outcome string)
}

type noMetrics struct{}

func (noMetrics) JobDone(string, string, time.Duration) {}
func (noMetrics) JobRedelivered(string)                 {}
func (noMetrics) Delivery(string, string)               {}

// ErrSuperseded is returned (wrapped) by Deliver, FanOut and handlers when
// the job was changed, cancelled or claimed by another runner while it
// ran: its work is no longer this runner's to do.
var ErrSuperseded = errors.New("scheduler: job superseded")

// deferError asks the runner to run the job again at a given time.
type deferError struct{ at time.Time }

func (e deferError) Error() string { return "scheduler: deferred to " + e.at.Format(time.RFC3339) }

// Defer returns the error a handler returns to be run again at at without
// it counting as a failure (for instance to throttle itself).
func Defer(at time.Time) error { return deferError{at: at} }

// Defaults of a Runner.
const (
	DefaultTick     = time.Second
	DefaultLease    = 30 * time.Second
	DefaultBatch    = 32
	DefaultWorkers  = 8
	DefaultRetries  = 5
	DefaultJobLimit = 10 * time.Minute
)

// Option tunes a Runner.
type Option func(*Runner)

// WithTick sets how often due jobs are claimed (reminders.tick).
func WithTick(d time.Duration) Option {
	return func(r *Runner) {
		if d > 0 {
			r.tick = d
		}
	}
}

// WithLease sets how long a claim lasts without a heartbeat. A runner that
// stops (crash, partition) delays its jobs by at most this much.
func WithLease(d time.Duration) Option {
	return func(r *Runner) {
		if d > 0 {
			r.lease = d
		}
	}
}

// WithBatch sets the most jobs claimed per tick.
func WithBatch(n int) Option {
	return func(r *Runner) {
		if n > 0 {
			r.batch = n
		}
	}
}

// WithWorkers sets how many jobs run at once.
func WithWorkers(n int) Option {
	return func(r *Runner) {
		if n > 0 {
			r.workers = n
		}
	}
}

// WithRetries sets how many failed runs a job gets before it is dropped,
// and the first backoff (doubled per failure, capped at an hour).
func WithRetries(runs int, backoff time.Duration) Option {
	return func(r *Runner) {
		if runs > 0 {
			r.retries = runs
		}
		if backoff > 0 {
			r.backoff = backoff
		}
	}
}

// WithClock sets the clock for lag and retry times; it must be the clock
// of the store's scripts.
func WithClock(now func() time.Time) Option {
	return func(r *Runner) {
		if now != nil {
			r.now = now
		}
	}
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option {
	return func(r *Runner) {
		if l != nil {
			r.log = l
		}
	}
}

// WithMetrics reports to m.
func WithMetrics(m Metrics) Option {
	return func(r *Runner) {
		if m != nil {
			r.metrics = m
		}
	}
}

// WithSettleTimeout bounds acknowledging or giving back one job (default
// 5 s); the time starts when the job has ended.
func WithSettleTimeout(d time.Duration) Option {
	return func(r *Runner) {
		if d > 0 {
			r.settleTimeout = d
		}
	}
}

// WithOwner names this runner in claims (for operators reading Redis).
func WithOwner(owner string) Option {
	return func(r *Runner) {
		if owner != "" {
			r.owner = owner
		}
	}
}

// Runner claims due jobs and runs them. Register handlers with Handle
// before Start; Tick runs one round by hand (tests).
type Runner struct {
	store Store
	tick  time.Duration
	lease time.Duration
	// settleTimeout bounds acknowledging or giving back a job.
	settleTimeout time.Duration
	batch         int
	workers       int
	retries       int
	backoff       time.Duration
	now           func() time.Time
	log           *slog.Logger
	metrics       Metrics
	owner         string

	handlers map[string]HandlerFunc

	mu       sync.Mutex
	running  int
	backlog  bool          // the last claim was full: more may be due
	wake     chan struct{} // a worker freed while there is a backlog
	started  bool
	stopLoop context.CancelFunc
	loopDone chan struct{}
	jobsCtx  context.Context
	stopJobs context.CancelFunc
	jobs     sync.WaitGroup
}

// New returns a runner over store.
func New(store Store, opts ...Option) *Runner {
	r := &Runner{
		store: store, tick: DefaultTick, lease: DefaultLease, batch: DefaultBatch,
		workers: DefaultWorkers, retries: DefaultRetries, backoff: 5 * time.Second,
		now: time.Now, log: slog.New(slog.DiscardHandler), metrics: noMetrics{},
		owner: "runner", handlers: make(map[string]HandlerFunc), wake: make(chan struct{}, 1),
		settleTimeout: 5 * time.Second,
	}
	for _, o := range opts {
		o(r)
	}
	r.jobsCtx, r.stopJobs = context.WithCancel(context.Background())
	return r
}

// Handle registers h for jobs of kind. It panics on an empty kind, a nil
// handler, a kind registered twice, or after Start: these are wiring
// mistakes.
func (r *Runner) Handle(kind string, h HandlerFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case kind == "" || h == nil:
		panic("scheduler: Handle needs a kind and a handler")
	case r.handlers[kind] != nil:
		panic("scheduler: handler for " + kind + " registered twice")
	case r.started:
		panic("scheduler: Handle after Start")
	}
	r.handlers[kind] = h
}

// Start ticks in the background until ctx ends or Stop is called. Jobs
// that are running when ctx ends are not cut short: Stop decides how long
// they may finish.
func (r *Runner) Start(ctx context.Context) {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return
	}
	r.started = true
	loopCtx, cancel := context.WithCancel(ctx)
	r.stopLoop = cancel
	r.loopDone = make(chan struct{})
	r.mu.Unlock()

	go func() {
		defer close(r.loopDone)
		t := time.NewTicker(r.tick)
		defer t.Stop()
		failing := false
		for {
			// An outage is logged when it starts and when it ends, not
			// every tick.
			_, err := r.dispatch(loopCtx, false)
			switch {
			case err != nil && loopCtx.Err() == nil && !failing:
				failing = true
				r.log.WarnContext(loopCtx, "claiming due jobs failed; retrying every tick", "err", err.Error())
			case err == nil && failing:
				failing = false
				r.log.InfoContext(loopCtx, "claiming due jobs works again")
			}
			select {
			case <-loopCtx.Done():
				return
			case <-t.C:
			case <-r.wake: // a backlog: claim again without waiting for the tick
			}
		}
	}()
}

// Wake makes the runner claim due jobs now instead of at its next tick:
// for a job just scheduled to run at once (a ballot's result). Other
// replicas still find it at their tick.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Stop stops claiming, lets running jobs finish until ctx ends, then
// interrupts the rest: they give their jobs back to be claimed at once by
// another runner (their delivery logs keep what was sent). It returns
// ctx's error if jobs had to be interrupted.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	stop, done := r.stopLoop, r.loopDone
	r.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	finished := make(chan struct{})
	go func() {
		r.jobs.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
	}
	r.stopJobs()
	<-finished
	return fmt.Errorf("scheduler: stop: %w", ctx.Err())
}

// Tick claims the jobs due now (as many as there are free workers, up to
// the batch size) and runs them, returning when they have finished. It
// reports how many jobs it ran.
func (r *Runner) Tick(ctx context.Context) (int, error) {
	return r.dispatch(ctx, true)
}

func (r *Runner) dispatch(ctx context.Context, wait bool) (int, error) {
	r.mu.Lock()
	free := r.workers - r.running
	r.mu.Unlock()
	if free <= 0 {
		return 0, nil
	}
	limit := min(free, r.batch)
	jobs, err := r.store.Claim(ctx, r.owner, limit, r.lease)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	r.backlog = len(jobs) == limit
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, cj := range jobs {
		r.mu.Lock()
		r.running++
		r.mu.Unlock()
		r.jobs.Add(1)
		wg.Add(1)
		go func(cj storage.ClaimedJob) {
			defer func() {
				r.mu.Lock()
				r.running--
				if r.backlog {
					select {
					case r.wake <- struct{}{}:
					default:
					}
				}
				r.mu.Unlock()
				wg.Done()
				r.jobs.Done()
			}()
			r.run(cj)
		}(cj)
	}
	if wait {
		wg.Wait()
	}
	return len(jobs), nil
}

// run executes one claimed job and settles it with the store.
func (r *Runner) run(cj storage.ClaimedJob) {
	ctx, cancel := context.WithTimeout(r.jobsCtx, DefaultJobLimit)
	defer cancel()
	log := r.log.With("job", cj.ID, "kind", cj.Kind, "attempt", cj.Attempt, "token", cj.Token)
	lag := r.now().Sub(cj.DueAt)
	if cj.Redelivered {
		r.metrics.JobRedelivered(cj.Kind)
		log.WarnContext(ctx, "job claimed again after its lease expired")
	}
	r.mu.Lock()
	h := r.handlers[cj.Kind]
	r.mu.Unlock()
	// Settling uses its own context, made when the job has ended: the
	// job's may be cancelled by Stop, and giving the job back is exactly
	// what must happen then; and a timer started before a long job would
	// have run out by the time it is needed.
	settleCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), r.settleTimeout)
	}
	if h == nil {
		// A replica of another version may know it; try again later.
		log.WarnContext(ctx, "no handler for job kind; giving it back")
		r.metrics.JobDone(cj.Kind, "unknown_kind", lag)
		settle, cancelSettle := settleCtx()
		defer cancelSettle()
		r.giveBack(settle, log, cj, r.now().Add(time.Minute), false)
		return
	}
	job := &Job{claimed: cj, runner: r}
	err := r.call(ctx, h, job)
	settle, cancelSettle := settleCtx()
	defer cancelSettle()
	var d deferError
	switch {
	case err == nil:
		if aerr := r.store.Ack(settle, cj.ID, cj.Token); aerr != nil {
			r.settleFailed(ctx, log, cj, lag, aerr)
			return
		}
		r.metrics.JobDone(cj.Kind, "ok", lag)
	case errors.Is(err, ErrSuperseded):
		log.InfoContext(ctx, "job superseded while it ran", "err", err.Error())
		r.metrics.JobDone(cj.Kind, "superseded", lag)
	case errors.As(err, &d):
		r.metrics.JobDone(cj.Kind, "deferred", lag)
		r.giveBack(settle, log, cj, d.at, false)
	case r.jobsCtx.Err() != nil:
		log.InfoContext(ctx, "job interrupted by shutdown; giving it back")
		r.metrics.JobDone(cj.Kind, "interrupted", lag)
		r.giveBack(settle, log, cj, r.now(), false)
	case cj.Failures+1 >= r.retries:
		log.ErrorContext(ctx, "job failed for the last time; dropped", "err", err.Error(), "failures", cj.Failures+1)
		r.metrics.JobDone(cj.Kind, "dropped", lag)
		if aerr := r.store.Ack(settle, cj.ID, cj.Token); aerr != nil && !errors.Is(aerr, storage.ErrNotHolder) {
			log.WarnContext(ctx, "dropping a failed job", "err", aerr.Error())
		}
	default:
		at := r.now().Add(r.retryDelay(cj.Failures))
		log.WarnContext(ctx, "job failed; will retry", "err", err.Error(), "retry_at", at)
		r.metrics.JobDone(cj.Kind, "retried", lag)
		r.giveBack(settle, log, cj, at, true)
	}
}

// call runs the handler, turning a panic into an error.
func (r *Runner) call(ctx context.Context, h HandlerFunc, job *Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("scheduler: job %s panicked: %v", job.claimed.ID, p)
		}
	}()
	return h(ctx, job)
}

func (r *Runner) settleFailed(ctx context.Context, log *slog.Logger, cj storage.ClaimedJob, lag time.Duration, err error) {
	if errors.Is(err, storage.ErrNotHolder) {
		log.InfoContext(ctx, "job done, but it had been changed or claimed again meanwhile")
		r.metrics.JobDone(cj.Kind, "superseded", lag)
		return
	}
	// The work is done but not recorded: the job runs again after its
	// lease, and its delivery log prevents repeats.
	log.WarnContext(ctx, "acknowledging a finished job failed", "err", err.Error())
	r.metrics.JobDone(cj.Kind, "failed", lag)
}

func (r *Runner) giveBack(ctx context.Context, log *slog.Logger, cj storage.ClaimedJob, at time.Time, failed bool) {
	if err := r.store.Retry(ctx, cj.ID, cj.Token, at, failed); err != nil && !errors.Is(err, storage.ErrNotHolder) {
		log.WarnContext(ctx, "giving a job back failed; it returns after its lease", "err", err.Error())
	}
}

func (r *Runner) retryDelay(failures int) time.Duration {
	d := r.backoff
	for i := 0; i < failures && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}
