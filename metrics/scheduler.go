package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// schedulerCollectors observe the job runner (package scheduler).
type schedulerCollectors struct {
	jobs        *prometheus.CounterVec
	redelivered *prometheus.CounterVec
	deliveries  *prometheus.CounterVec
	lag         *prometheus.HistogramVec
}

func newSchedulerCollectors(reg prometheus.Registerer) *schedulerCollectors {
	return &schedulerCollectors{
		jobs: counterVec(reg, "committeebot_scheduler_jobs_total",
			"Scheduled jobs run, by kind and outcome (ok, failed, retried, dropped, deferred, superseded, unknown_kind, interrupted).", "kind", "outcome"),
		redelivered: counterVec(reg, "committeebot_scheduler_redelivered_total",
			"Jobs claimed again because the previous claim's lease expired unacknowledged (a runner crashed or hung), by kind.", "kind"),
		deliveries: counterVec(reg, "committeebot_scheduler_deliveries_total",
			"Messages of scheduled jobs, by kind and outcome: sent, skipped (sent by an earlier run), unreachable (blocked or no private chat), uncertain (possibly sent by a run that crashed; the crash window), failed.", "kind", "outcome"),
		lag: histogramVec(reg, "committeebot_scheduler_lag_seconds",
			"Time from a job's due moment to its run, by kind.",
			[]float64{0.1, 0.5, 1, 2, 5, 15, 60, 300, 3600, 86400}, "kind"),
	}
}

// JobDone counts a finished run of a scheduled job and its lag.
func (m *Metrics) JobDone(kind, outcome string, lag time.Duration) {
	m.sched.jobs.WithLabelValues(kind, outcome).Inc()
	m.sched.lag.WithLabelValues(kind).Observe(max(lag, 0).Seconds())
}

// JobRedelivered counts a job taken over after its lease expired.
func (m *Metrics) JobRedelivered(kind string) { m.sched.redelivered.WithLabelValues(kind).Inc() }

// Delivery counts one message of a scheduled job.
func (m *Metrics) Delivery(kind, outcome string) {
	m.sched.deliveries.WithLabelValues(kind, outcome).Inc()
}
