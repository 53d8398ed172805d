package metrics

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestObservationsAppearInTheExposition(t *testing.T) {
	m := New()
	m.UpdateHandled("command", "ok", 30*time.Millisecond)
	m.UpdateHandled("callback", "error", time.Second)
	m.Queued(2)
	m.Queued(-1)
	m.TooManyRequests("sendMessage")
	m.Retry("sendMessage")
	m.Result("sendMessage", nil)
	m.Result("sendMessage", errors.New("x"))
	m.RedisError()
	m.GetUpdates("conflict")
	m.WebhookRequest("unauthorized")
	m.PollerActive(true)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`committeebot_updates_total{kind="command",outcome="ok"} 1`,
		`committeebot_updates_total{kind="callback",outcome="error"} 1`,
		`committeebot_handler_duration_seconds_count{kind="command"} 1`,
		`committeebot_sender_queue 1`,
		`committeebot_telegram_429_total{method="sendMessage"} 1`,
		`committeebot_telegram_retries_total{method="sendMessage"} 1`,
		`committeebot_telegram_calls_total{method="sendMessage",outcome="error"} 1`,
		`committeebot_redis_errors_total 1`,
		`committeebot_telegram_get_updates_total{result="conflict"} 1`,
		`committeebot_webhook_requests_total{result="unauthorized"} 1`,
		`committeebot_poller_active 1`,
		`committeebot_build_info{commit="`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("exposition lacks %s", want)
		}
	}
}
