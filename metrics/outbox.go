package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// outboxCollectors observe the outbox workers (package outbox).
type outboxCollectors struct {
	deliveries *prometheus.CounterVec
	call       prometheus.Histogram
}

func newOutboxCollectors(reg prometheus.Registerer) *outboxCollectors {
	return &outboxCollectors{
		deliveries: counterVec(reg, "committeebot_outbox_deliveries_total",
			"Attempts at outgoing messages by outcome: sent, not_modified, refused (400/403, final), retry (5xx or network), flood (429), skipped (possibly sent by a worker that died, sent at most once), no_target (an edit of a message never delivered), fenced (finished after its lease was taken over).", "outcome"),
		call: histogram(reg, "committeebot_outbox_call_seconds",
			"Time Telegram took to answer one outgoing call.",
			prometheus.ExponentialBuckets(0.005, 2.5, 10)),
	}
}

// OutboxDelivery counts one attempt at an outgoing message by outcome.
func (m *Metrics) OutboxDelivery(outcome string) { m.outbox.deliveries.WithLabelValues(outcome).Inc() }

// OutboxLag observes how long Telegram took to answer one call.
func (m *Metrics) OutboxLag(d time.Duration) { m.outbox.call.Observe(max(d, 0).Seconds()) }
