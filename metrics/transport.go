package metrics

import "github.com/prometheus/client_golang/prometheus"

// transportCollectors observe how updates arrive: the long-polling loop
// and its lease, and the webhook.
type transportCollectors struct {
	getUpdates *prometheus.CounterVec
	webhook    *prometheus.CounterVec
	poller     prometheus.Gauge
}

func newTransportCollectors(reg prometheus.Registerer) *transportCollectors {
	return &transportCollectors{
		getUpdates: counterVec(reg, "committeebot_telegram_get_updates_total",
			"getUpdates calls of this replica, by result: ok, conflict (409: another poller or a webhook), flood (429), rejected (the token), error.", "result"),
		webhook: counterVec(reg, "committeebot_webhook_requests_total",
			"Requests to the webhook, by result: ok (200), failed (500, Telegram retries), unauthorized (401), closing (503), malformed (400), too_large (413), method (405).", "result"),
		poller: gauge(reg, "committeebot_poller_active",
			"1 on the replica that holds the poll lease and calls getUpdates, 0 on replicas standing by (and in webhook mode)."),
	}
}

// GetUpdates counts one getUpdates call by result.
func (m *Metrics) GetUpdates(result string) { m.transport.getUpdates.WithLabelValues(result).Inc() }

// WebhookRequest counts one request to the webhook by result.
func (m *Metrics) WebhookRequest(result string) { m.transport.webhook.WithLabelValues(result).Inc() }

// WebhookReply counts a Bot API call made in a webhook's response among
// the calls, with outcome "webhook_reply" (Telegram does not tell it).
func (m *Metrics) WebhookReply(method string) {
	m.apiCalls.WithLabelValues(method, "webhook_reply").Inc()
}

// PollerActive records whether this replica holds the poll lease.
func (m *Metrics) PollerActive(active bool) {
	setBool(m.transport.poller, active)
}
