// Package metrics exposes the bot's Prometheus metrics. It implements the
// observer interfaces that package bot declares, so the transport stays free
// of any metrics library.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/committeebot/committeebot/buildinfo"
)

// Metrics holds every collector, registered on its own registry so tests
// can build as many as they like.
type Metrics struct {
	reg *prometheus.Registry

	updates     *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	queue       prometheus.Gauge
	tooMany     *prometheus.CounterVec
	retries     *prometheus.CounterVec
	apiCalls    *prometheus.CounterVec
	redisErrors prometheus.Counter
	telegramUp  prometheus.Gauge
	sched       *schedulerCollectors
	outbox      *outboxCollectors
	transport   *transportCollectors
}

// New creates the collectors and registers them together with the Go
// runtime and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		updates: counterVec(reg, "committeebot_updates_total",
			"Telegram updates handled, by kind and outcome.", "kind", "outcome"),
		latency: histogramVec(reg, "committeebot_handler_duration_seconds",
			"Time spent handling one update, by kind.",
			prometheus.ExponentialBuckets(0.001, 2.5, 12), "kind"),
		queue: gauge(reg, "committeebot_sender_queue",
			"Outgoing Bot API calls waiting for the rate limiter or running."),
		tooMany: counterVec(reg, "committeebot_telegram_429_total",
			"Bot API calls answered 429 Too Many Requests, by method.", "method"),
		retries: counterVec(reg, "committeebot_telegram_retries_total",
			"Bot API calls retried after a 5xx, network error or 429, by method.", "method"),
		apiCalls: counterVec(reg, "committeebot_telegram_calls_total",
			"Bot API calls finished, by method and outcome (ok, error; webhook_reply: made by Telegram for the bot, from a webhook's response).", "method", "outcome"),
		telegramUp: gauge(reg, "committeebot_telegram_up",
			"1 if Telegram answered the last getMe probe (every 30 s), else 0. Not part of /readyz."),
		redisErrors: counter(reg, "committeebot_redis_errors_total",
			"Redis commands that failed because Redis was unreachable or refused them for now (not those whose caller ran out of time)."),
	}
	m.sched = newSchedulerCollectors(reg)
	m.outbox = newOutboxCollectors(reg)
	m.transport = newTransportCollectors(reg)
	bi := buildinfo.Get()
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "committeebot_build_info",
		Help: "The running build: always 1, with its version, commit, build date and Go version as labels.",
	}, []string{"version", "commit", "date", "goversion"})
	build.WithLabelValues(bi.Version, bi.Commit, bi.Date, bi.GoVersion).Set(1)
	reg.MustRegister(build, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is the registry the collectors are on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// UpdateHandled records one handled update.
func (m *Metrics) UpdateHandled(kind, outcome string, d time.Duration) {
	m.updates.WithLabelValues(kind, outcome).Inc()
	m.latency.WithLabelValues(kind).Observe(d.Seconds())
}

// Queued moves the sender queue gauge.
func (m *Metrics) Queued(delta int) { m.queue.Add(float64(delta)) }

// TooManyRequests counts a 429 answer.
func (m *Metrics) TooManyRequests(method string) { m.tooMany.WithLabelValues(method).Inc() }

// Retry counts a retried call.
func (m *Metrics) Retry(method string) { m.retries.WithLabelValues(method).Inc() }

// Result counts a finished call.
func (m *Metrics) Result(method string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.apiCalls.WithLabelValues(method, outcome).Inc()
}

// RedisError counts a Redis failure.
func (m *Metrics) RedisError() { m.redisErrors.Inc() }

// TelegramUp records whether Telegram answered the last probe (getMe).
func (m *Metrics) TelegramUp(up bool) {
	setBool(m.telegramUp, up)
}
