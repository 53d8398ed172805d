// Package app wires the bot together from its configuration: Redis, the
// Telegram client and sender, the handlers, the update source (long polling
// or webhook) and the operations HTTP server. `committeebot serve` and
// `committeebot demo` both run an App, so the demo exercises exactly the
// code that runs in production.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/config"
	"github.com/committeebot/committeebot/handlers"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/metrics"
	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/scheduler"
	"github.com/committeebot/committeebot/storage"
)

// handlerTimeout bounds one update's handling; the update claim lease is
// longer, so a handler never outlives its claim.
const (
	handlerTimeout = 30 * time.Second
	claimLease     = 45 * time.Second
)

// Option adjusts an App for tests and the demo.
type Option func(*options)

type options struct {
	now           func() time.Time
	instance      string
	opsListener   net.Listener
	hookListener  net.Listener
	noOps         bool
	lease         time.Duration
	timeout       time.Duration
	senderOptions []bot.SenderOption
	schedOptions  []scheduler.Option
	pollerOptions []bot.PollerOption
	limits        *storage.OutboxLimits
	outboxOpts    []outbox.WorkerOption
	startMin      time.Duration // getMe retries at start: first wait
	startMax      time.Duration // and cap
	pollTTL       time.Duration // poll lease
	pollRenew     time.Duration // its renewal period
	chartDelay    time.Duration // a result's chart after its text
}

// WithChartDelay sets how long a ballot result's chart waits after its
// text (default 3 s; tests that read the group take 0).
func WithChartDelay(d time.Duration) Option { return func(o *options) { o.chartDelay = d } }

// WithClock sets the clock used by handlers and stores.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithInstanceID names this process in update claims (default: host, pid
// and a random suffix).
func WithInstanceID(id string) Option { return func(o *options) { o.instance = id } }

// WithOpsListener serves /healthz, /readyz and /metrics on l instead of
// listening on http.listen.
func WithOpsListener(l net.Listener) Option { return func(o *options) { o.opsListener = l } }

// WithWebhookListener serves the webhook on l instead of listening on
// telegram.webhook.listen: a listener opened beforehand keeps its port
// from being taken meanwhile (tests).
func WithWebhookListener(l net.Listener) Option { return func(o *options) { o.hookListener = l } }

// WithoutOps disables the operations HTTP server (the demo).
func WithoutOps() Option { return func(o *options) { o.noOps = true } }

// WithUpdateTimeouts sets how long one update's handler may run and the
// lease of its claim (tests shorten them to watch a crashed instance's
// updates being taken over). The lease must exceed the handler timeout.
func WithUpdateTimeouts(handler, lease time.Duration) Option {
	return func(o *options) { o.timeout, o.lease = handler, lease }
}

// WithSenderOptions passes options to the sender (tests shorten waits).
func WithSenderOptions(opts ...bot.SenderOption) Option {
	return func(o *options) { o.senderOptions = append(o.senderOptions, opts...) }
}

// WithSchedulerOptions passes options to the job runner, after the App's
// own (tests shorten its lease to watch a killed instance's reminders
// taken over, or its retry backoff).
func WithSchedulerOptions(opts ...scheduler.Option) Option {
	return func(o *options) { o.schedOptions = append(o.schedOptions, opts...) }
}

// WithOutboxLimits replaces Telegram's limits as the outbox keeps them
// (storage.DefaultOutboxLimits); storage.OutboxLimits{} turns them off for
// tests that do not measure pacing.
func WithOutboxLimits(l storage.OutboxLimits) Option { return func(o *options) { o.limits = &l } }

// WithOutboxOptions passes options to the outbox worker (tests shorten its
// lease to watch a killed replica's messages taken over).
func WithOutboxOptions(opts ...outbox.WorkerOption) Option {
	return func(o *options) { o.outboxOpts = append(o.outboxOpts, opts...) }
}

// WithStartBackoff sets how getMe is retried while Telegram cannot be
// reached at start: the wait doubles from min after each failure, up to
// max (default 1 s to 30 s; tests shorten it).
func WithStartBackoff(min, max time.Duration) Option {
	return func(o *options) {
		if min > 0 && max >= min {
			o.startMin, o.startMax = min, max
		}
	}
}

// WithPollLease sets the lease that lets one replica at a time poll
// (default 10 s, renewed every 3 s; tests shorten it): a replica that dies
// is replaced about a second after its lease ran out. renew must be well
// under ttl (a third or less); other values are ignored.
func WithPollLease(ttl, renew time.Duration) Option {
	return func(o *options) {
		if renew > 0 && 3*renew <= ttl {
			o.pollTTL, o.pollRenew = ttl, renew
		}
	}
}

// WithPollerOptions passes options to the long-polling loop.
func WithPollerOptions(opts ...bot.PollerOption) Option {
	return func(o *options) { o.pollerOptions = append(o.pollerOptions, opts...) }
}

// App is a configured bot, ready to run.
type App struct {
	cfg     *config.Config
	log     *slog.Logger
	opts    options
	rdb     redis.UniversalClient
	keys    storage.Keys
	api     *tgbotapi.BotAPI
	sender  *bot.Sender
	metrics *metrics.Metrics
	deps    handlers.Deps // all but the bot's username, known once getMe answers
	jobs    *storage.Scheduler
	ready   *readiness
	worker  *outbox.Worker
	outbox  *storage.Outbox
	users   *storage.Users
	self    atomic.Pointer[bot.User] // set once by identify

	// Built by wire once the bot knows its username; only Run and the
	// goroutines it starts afterwards use them.
	h      *handlers.Handlers
	disp   *bot.Dispatcher
	runner *scheduler.Runner
}

// Defaults of the start-up retries and of the poll lease.
const (
	defaultStartMin  = time.Second
	defaultStartMax  = 30 * time.Second
	defaultPollTTL   = 10 * time.Second
	defaultPollRenew = 3 * time.Second
)

// New builds every part that does not need Telegram; nothing here calls
// it, so a Telegram outage does not stop the process from starting (Run
// asks getMe until it answers). Redis need not be up either: the bot
// starts and reports itself not ready until it is.
func New(cfg *config.Config, log *slog.Logger, opts ...Option) (*App, error) {
	o := options{now: time.Now, timeout: handlerTimeout, lease: claimLease,
		startMin: defaultStartMin, startMax: defaultStartMax, pollTTL: defaultPollTTL, pollRenew: defaultPollRenew,
		chartDelay: handlers.DefaultChartDelay}
	for _, opt := range opts {
		opt(&o)
	}
	if o.instance == "" {
		o.instance = instanceID()
	}
	a := &App{cfg: cfg, log: log, opts: o, metrics: metrics.New()}

	rdb, err := storage.NewClient(storage.Options{
		URL:              cfg.Redis.URL.Reveal(),
		Password:         cfg.Redis.Password.Reveal(),
		SentinelMaster:   cfg.Redis.Sentinel.Master,
		SentinelAddrs:    cfg.Redis.Sentinel.Addrs,
		SentinelPassword: cfg.Redis.Sentinel.Password.Reveal(),
		ClusterAddrs:     cfg.Redis.Cluster.Addrs,
		KeyPrefix:        cfg.Redis.KeyPrefix,
		WaitReplicas:     cfg.Redis.WaitReplicas,
	})
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	rdb.AddHook(redisErrorHook{a.metrics})
	a.rdb = rdb

	// The HTTP client must wait longer than the long-poll timeout.
	api, err := bot.NewClient(cfg.Telegram.Token.Reveal(), cfg.Telegram.APIEndpoint, cfg.Telegram.PollTimeout+15*time.Second)
	if err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("telegram: %w", err)
	}
	a.api = api
	sopts := append([]bot.SenderOption{bot.WithLogger(log), bot.WithMetrics(a.metrics)}, o.senderOptions...)
	a.sender = bot.NewSender(api, sopts...)

	cat, err := i18n.New(cfg.Bot.Language)
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	keys := storage.NewKeys(cfg.Redis.KeyPrefix)
	a.keys = keys
	users := storage.NewUsers(rdb, keys)
	a.users = users
	sealer, err := newSealer(cfg, log)
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	a.jobs = storage.NewScheduler(rdb, keys, 0, storage.WithClock(o.now))
	limits := storage.DefaultOutboxLimits()
	if o.limits != nil {
		limits = *o.limits
	}
	// Telegram's limits run on real time, whatever clock the committee's
	// calendar runs on (tests move that one).
	box := storage.NewOutbox(rdb, keys, limits)
	a.outbox = box
	wopts := append([]outbox.WorkerOption{outbox.WithMetrics(a.metrics)}, o.outboxOpts...)
	a.worker = outbox.NewWorker(box, a.sender, log, wopts...)
	writer := outbox.NewWriter(box, a.sender, a.worker.Wake, log)
	a.deps = handlers.Deps{
		Sender:        writer,
		Catalog:       cat,
		Prefs:         users,
		Dialogs:       storage.NewDialogs(rdb, keys),
		Committees:    storage.NewCommittees(rdb, keys, storage.WithClock(o.now)),
		Current:       users,
		Ballots:       storage.NewBallots(rdb, keys, storage.WithClock(o.now), storage.WithSealer(sealer)),
		BallotOffsets: cfg.Reminders.BallotOffsets,
		MaxDeadline:   cfg.Voting.MaxDeadline,
		JoinDigest:    cfg.Bot.JoinDigest,
		Nominations:   storage.NewNominations(rdb, keys, storage.WithClock(o.now)),
		Awards:        cfg.AwardCatalogue(),
		Meetings:      storage.NewMeetings(rdb, keys, storage.WithClock(o.now)),
		Jobs:          a.jobs,
		Reminders:     cfg.Reminders.MeetingOffsets,
		MeetingLength: cfg.Meetings.DefaultDuration,
		ChartDelay:    o.chartDelay,
		Location:      cfg.Bot.Location,
		Log:           log,
		Now:           o.now,
		Admins:        cfg.Bot.Admins,
	}
	a.ready = newReadiness(rdb)
	return a, nil
}

// wire builds the parts that name the bot — handlers (deep links, the
// @mention check), the router and dispatcher, the job runner — once getMe
// told its username.
func (a *App) wire(me bot.User) error {
	d := a.deps
	d.BotUsername = me.Username
	o := a.opts
	jobs := &wakeOnDue{JobScheduler: d.Jobs, now: o.now}
	d.Jobs = jobs
	h, err := handlers.New(d)
	if err != nil {
		return err
	}
	runner := scheduler.New(a.jobs, append([]scheduler.Option{scheduler.WithTick(a.cfg.Reminders.Tick),
		scheduler.WithClock(o.now), scheduler.WithLogger(a.log), scheduler.WithMetrics(a.metrics), scheduler.WithOwner(o.instance)},
		o.schedOptions...)...)
	jobs.runner.Store(runner)
	for kind, run := range h.Jobs() {
		runner.Handle(kind, run)
	}
	rt := bot.NewRouter()
	rt.Use(
		bot.Recover(a.log),
		bot.Log(a.log, a.metrics, o.now),
		bot.Dedupe(newClaimer(storage.NewUpdates(a.rdb, a.keys, 0, storage.WithClock(o.now)), o.instance, o.lease, o.timeout), a.log, rt.Idempotent),
		outbox.Origins(),
		bot.AutoRespond(a.sender, a.log),
	)
	h.Register(rt)
	a.h, a.runner = h, runner
	a.disp = bot.NewDispatcher(rt.Handler(), me.Username, a.cfg.Bot.Workers, o.timeout, a.log)
	a.self.Store(&me)
	return nil
}

// identify asks Telegram who the bot is until it answers, waiting longer
// after each failure (capped), and then wires the parts that need the
// answer. A token Telegram refuses ends it with an error: no retry can fix
// that. It returns ctx's error if ctx ends first.
func (a *App) identify(ctx context.Context) error {
	wait := a.opts.startMin
	for attempt := 1; ; attempt++ {
		// A stuck connection must not hold the start-up for the HTTP
		// client's whole timeout (longer than a long poll).
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		me, err := bot.GetMe(cctx, a.api)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			a.metrics.TelegramUp(true)
			if attempt > 1 {
				a.log.InfoContext(ctx, "Telegram answered getMe; starting", "bot", me.Username, "attempts", attempt)
			}
			return a.wire(me)
		}
		if errors.Is(err, bot.ErrTokenRejected) {
			return fmt.Errorf("%w (check telegram.token)", err)
		}
		a.metrics.TelegramUp(false)
		a.log.WarnContext(ctx, "Telegram does not answer getMe; the bot starts once it does (/healthz alive, /readyz not ready)",
			"err", err.Error(), "attempt", attempt, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, a.opts.startMax)
	}
}

// OutboxPending counts the messages waiting in the outbox, across every
// replica (the demo waits for them before showing the prompt again).
func (a *App) OutboxPending(ctx context.Context) (int, error) { return a.outbox.Pending(ctx) }

// BotUsername is the bot's Telegram username, as getMe reported it; empty
// until Run has heard from Telegram.
func (a *App) BotUsername() string {
	if me := a.self.Load(); me != nil {
		return me.Username
	}
	return ""
}

// Metrics exposes the collectors (tests read them).
func (a *App) Metrics() *metrics.Metrics { return a.metrics }

// Run serves until ctx ends and returns nil on a clean shutdown. The
// operations server answers at once (/readyz not ready yet); the bot asks
// Telegram who it is (getMe, retried with capped backoff while Telegram
// cannot be reached; a refused token is an error) and only then starts the
// parts that name it and takes updates.
//
// When ctx ends, the shutdown has shutdown.timeout in all, from that
// moment: stop taking updates (the poll is cancelled and the poll lease
// released; the webhook server closes its listener and waits for the
// deliveries being handled), wait for the handlers in flight, then for
// the running scheduled jobs, then for the outbox's sends in flight, flush
// the sender and close Redis; /readyz answers 503 all along. Each stage
// waits only for what is left of the budget. What is not done when it is
// spent is cut short and logged, and Run returns anyway — still nil: an
// update not confirmed is delivered again by Telegram, a claim or lease
// left behind runs out and another replica (or the next start) takes the
// work over, and queued messages stay in Redis.
func (a *App) Run(ctx context.Context) error {
	sd := newShutdown(ctx, a.cfg.Shutdown.Timeout, a.log, nil, nil)
	defer sd.finish()
	defer context.AfterFunc(ctx, a.ready.stop)()

	opsDone := make(chan struct{})
	opsErr := make(chan error, 1)
	opsCtx, stopOps := context.WithCancel(context.WithoutCancel(ctx))
	if a.opts.noOps {
		close(opsDone)
	} else {
		go func() {
			defer close(opsDone)
			opsErr <- a.serveOps(opsCtx, sd.Context())
		}()
	}

	err := a.identify(ctx)
	if err == nil {
		a.ready.identified()
		err = a.serve(ctx, sd)
	}

	sd.begin() // if the bot stopped on an error, ctx has not ended
	a.ready.stop()
	a.sender.Close()
	if cerr := a.rdb.Close(); cerr != nil {
		a.log.Warn("closing redis", "err", cerr.Error())
	}
	// The operations server goes last, so that /healthz and /metrics
	// answer during the whole shutdown.
	stopOps()
	sd.wait("operations server", opsDone)
	select {
	case oerr := <-opsErr:
		if err == nil && oerr != nil {
			err = oerr
		}
	default:
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// serve runs the bot once it knows who it is, until ctx ends, and stops
// its parts in order within the shutdown's budget; Run closes the sender
// and Redis after it. Producers stop before the consumers of their
// output: the receivers, then the handlers, then the job runner, then
// the outbox worker that sends what they queued.
func (a *App) serve(ctx context.Context, sd *shutdown) error {
	if err := a.h.SetCommands(ctx); err != nil && ctx.Err() == nil {
		a.log.WarnContext(ctx, "setMyCommands failed; the command menu may be stale", "err", err.Error())
	}
	if err := a.h.SetDescriptions(ctx); err != nil && ctx.Err() == nil {
		a.log.WarnContext(ctx, "setMyDescription failed; the bot's description may be stale", "err", err.Error())
	}
	if err := a.h.ScheduleYearTurns(ctx); err != nil && ctx.Err() == nil {
		// Each committee's next turn is also scheduled by its /setup and
		// by every turn; a start that cannot reach Redis tries at the next.
		a.log.WarnContext(ctx, "scheduling the year turns failed", "err", err.Error())
	}

	// Outgoing messages are delivered by every replica; see package
	// outbox. The worker runs until the end, after the receivers and the
	// job runner, so that what they queue still leaves promptly.
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		a.worker.Run(workerCtx)
	}()

	// The languages the handlers read are kept in the process while it
	// hears of every change (storage.Users.Watch), until the end: the
	// handlers and jobs that read them stop before.
	langCtx, stopLangs := context.WithCancel(context.WithoutCancel(ctx))
	langsDone := make(chan struct{})
	go func() {
		defer close(langsDone)
		a.users.Watch(langCtx)
	}()
	defer func() {
		stopLangs()
		<-langsDone
	}()

	// Due jobs (reminders) are claimed by every replica; see package
	// scheduler. Claiming stops when ctx ends.
	a.runner.Start(ctx)

	probeCtx, stopProbe := context.WithCancel(ctx)
	defer stopProbe()
	go probeTelegram(probeCtx, a.sender, a.metrics, a.log, 30*time.Second)

	// 1. Stop taking updates (see runPolling and runWebhook).
	var err error
	switch a.cfg.Telegram.Mode {
	case "webhook":
		err = a.runWebhook(ctx, sd)
	default:
		err = a.runPolling(ctx, sd)
	}
	sd.begin()

	// 2. The handlers in flight and those already queued finish; a handler
	// cut short leaves its update's claim to run out, and the update —
	// not confirmed to Telegram — is handled again by whoever gets it.
	sd.run("update handlers", func(context.Context) { a.disp.Stop() })

	// 3. The running scheduled jobs finish while the outbox still takes
	// their messages; when the budget is spent they are interrupted and
	// give their jobs back (or their leases run out) for another replica.
	sd.run("scheduled jobs", func(stop context.Context) {
		if serr := a.runner.Stop(stop); serr != nil {
			a.log.Warn("scheduled jobs interrupted by shutdown; handed back", "err", serr.Error())
		}
	})

	// 4. The outbox worker claims nothing more; the sends in flight finish
	// and are recorded. What is still queued stays in Redis for another
	// replica or the next start; a send cut short is taken over after its
	// lease (and sent again unless it must be sent at most once).
	stopWorker()
	sd.wait("outbox sends in flight", workerDone)
	// Flush fails only when the budget is spent, and the stage is then
	// recorded as cut short.
	sd.run("telegram sender", func(stop context.Context) { _ = a.sender.Flush(stop) })
	return err
}

// runWebhook serves the webhook until ctx ends, then closes its
// listener and waits for the deliveries being handled while the
// shutdown's budget lasts; deliveries still running then are cut off, and
// Telegram, which got no answer, delivers their updates again.
func (a *App) runWebhook(ctx context.Context, sd *shutdown) error {
	wh := a.cfg.Telegram.Webhook
	if err := bot.SetWebhook(ctx, a.sender, wh.URL, wh.SecretToken.Reveal(), bot.DefaultAllowedUpdates(), false); err != nil {
		return fmt.Errorf("set webhook: %w", err)
	}
	a.log.Info("serving webhook", "listen", wh.Listen, "bot", a.BotUsername())
	hook := bot.NewWebhook(a.disp, wh.SecretToken.Reveal(), bot.WithWebhookLogger(a.log), bot.WithWebhookMetrics(a.metrics))
	var err error
	if l := a.opts.hookListener; l != nil {
		err = bot.ServeWebhookOn(ctx, sd.Context(), l, hook, a.log)
	} else {
		err = bot.ServeWebhook(ctx, sd.Context(), wh.Listen, hook, a.log)
	}
	if errors.Is(err, bot.ErrDeliveriesCut) {
		sd.cutShort("webhook deliveries")
		return nil
	}
	return err
}

// serveOps serves /healthz, /readyz and /metrics until ctx ends, then
// stops within what is left of the shutdown (drain).
func (a *App) serveOps(ctx, drain context.Context) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := a.ready.check(r.Context()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", a.metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	l := a.opts.opsListener
	if l == nil {
		var err error
		if l, err = net.Listen("tcp", a.cfg.HTTP.Listen); err != nil {
			return fmt.Errorf("ops server: %w", err)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("ops server: %w", err)
	case <-ctx.Done():
	}
	if srv.Shutdown(drain) != nil {
		_ = srv.Close()
	}
	return nil
}

func instanceID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
