package telegramtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// delivery is one webhook request the receiver saw.
type delivery struct {
	secret   string
	updateID int
	status   int
}

// receiver is a webhook endpoint answering with the statuses given, then
// 200, and reporting every delivery.
type receiver struct {
	mu         sync.Mutex
	statuses   []int
	reply      string
	deliveries chan delivery
}

func newReceiver(t *testing.T, statuses ...int) (*receiver, *httptest.Server) {
	t.Helper()
	r := &receiver{statuses: statuses, deliveries: make(chan delivery, 100)}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var u struct {
		UpdateID int `json:"update_id"`
	}
	_ = json.Unmarshal(body, &u)
	r.mu.Lock()
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	reply := r.reply
	r.mu.Unlock()
	r.deliveries <- delivery{secret: req.Header.Get("X-Telegram-Bot-Api-Secret-Token"), updateID: u.UpdateID, status: status}
	if status == http.StatusOK && reply != "" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, reply)
		return
	}
	w.WriteHeader(status)
}

// next waits for the next delivery.
func (r *receiver) next(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-r.deliveries:
		return d
	case <-testCtx(t).Done():
		t.Fatal("no webhook delivery")
		return delivery{}
	}
}

func TestWebhookDeliversInOrderWithSecretAndRetries(t *testing.T) {
	s := newServer(t, WithWebhookRetry(time.Millisecond, 4*time.Millisecond))
	rcv, hook := newReceiver(t, http.StatusInternalServerError, http.StatusInternalServerError)
	s.SendText(alice, alice, "/start")
	s.SendText(alice, alice, "/status")
	res := mustOK(t, s, "setWebhook", "url", hook.URL+"/tg", "secret_token", "s3cr3t_-X")
	if string(res) != "true" {
		t.Errorf("setWebhook result = %s", res)
	}

	var got []delivery
	for range 4 {
		got = append(got, rcv.next(t))
	}
	want := []delivery{
		{secret: "s3cr3t_-X", updateID: 1, status: 500},
		{secret: "s3cr3t_-X", updateID: 1, status: 500},
		{secret: "s3cr3t_-X", updateID: 1, status: 200},
		{secret: "s3cr3t_-X", updateID: 2, status: 200},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(delivery{})); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}

	var info struct {
		URL                string `json:"url"`
		PendingUpdateCount int    `json:"pending_update_count"`
		LastErrorDate      int64  `json:"last_error_date"`
		LastErrorMessage   string `json:"last_error_message"`
	}
	waitFor(t, s, func() bool { return s.PendingUpdates() == 0 })
	if err := json.Unmarshal(mustOK(t, s, "getWebhookInfo"), &info); err != nil {
		t.Fatal(err)
	}
	if info.URL != hook.URL+"/tg" || info.PendingUpdateCount != 0 || info.LastErrorDate == 0 ||
		info.LastErrorMessage != "Wrong response from the webhook: 500 Internal Server Error" {
		t.Errorf("webhook info = %+v", info)
	}

	// New updates go straight to the webhook.
	s.SendText(groupID, carol, "/vote 1")
	if d := rcv.next(t); d.updateID != 3 {
		t.Errorf("next delivery = %+v, want update 3", d)
	}
}

func TestWebhookUnreachableKeepsUpdates(t *testing.T) {
	s := newServer(t, WithWebhookRetry(time.Millisecond, 2*time.Millisecond))
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	mustOK(t, s, "setWebhook", "url", deadURL)
	s.SendText(alice, alice, "hello")
	waitFor(t, s, func() bool { _, e := s.WebhookInfo(); return e != "" })
	if _, e := s.WebhookInfo(); e != "Connection refused" {
		t.Errorf("last error = %q, want Connection refused", e)
	}
	if n := s.PendingUpdates(); n != 1 {
		t.Errorf("pending = %d, want 1", n)
	}
	// Deleting the webhook with drop_pending_updates forgets them.
	mustOK(t, s, "deleteWebhook", "drop_pending_updates", "true")
	if n := s.PendingUpdates(); n != 0 {
		t.Errorf("pending after drop = %d, want 0", n)
	}
}

func TestWebhookReplyIsExecuted(t *testing.T) {
	s := newServer(t)
	rcv, hook := newReceiver(t)
	rcv.reply = `{"method":"sendMessage","chat_id":1001,"text":"pong"}`
	mustOK(t, s, "setWebhook", "url", hook.URL)
	s.SendText(alice, alice, "ping")
	m, err := s.WaitBotMessage(testCtx(t), alice, func(m Message) bool { return m.Text == "pong" })
	if err != nil {
		t.Fatalf("no reply from the webhook answer: %v", err)
	}
	if m.From.ID != s.Bot().ID {
		t.Errorf("reply from %d", m.From.ID)
	}
}

func TestWebhookDescriptions(t *testing.T) {
	s := newServer(t)
	tests := []struct {
		method string
		params []string
		want   string
	}{
		{method: "deleteWebhook", want: "Webhook is already deleted"},
		{method: "setWebhook", params: []string{"url", "https://example.com/a"}, want: "Webhook was set"},
		{method: "setWebhook", params: []string{"url", "https://example.com/a"}, want: "Webhook is already set"},
		{method: "setWebhook", params: []string{"url", ""}, want: "Webhook was deleted"},
	}
	for _, tt := range tests {
		resp, err := http.Post(s.URL()+"/bot"+s.Token()+"/"+tt.method, "application/x-www-form-urlencoded",
			strings.NewReader(formEncode(tt.params...)))
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			OK          bool   `json:"ok"`
			Description string `json:"description"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if !env.OK || env.Description != tt.want {
			t.Errorf("%s %v: %+v, want ok with %q", tt.method, tt.params, env, tt.want)
		}
	}
}

func formEncode(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv[i] + "=" + kv[i+1])
	}
	return b.String()
}

// waitFor waits until cond holds, re-checking at every state change.
func waitFor(t *testing.T, s *Server, cond func() bool) {
	t.Helper()
	ctx := testCtx(t)
	for {
		ch := s.changes()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatal("condition never held")
		}
	}
}

func TestRedirectWebhook(t *testing.T) {
	s := newServer(t)
	rcv, hook := newReceiver(t)
	if s.WebhookURL() != "" {
		t.Fatalf("WebhookURL = %q before setWebhook", s.WebhookURL())
	}
	s.RedirectWebhook(hook.URL)
	mustOK(t, s, "setWebhook", "url", "https://bot.example.org/hook", "secret_token", "abc")
	if got := s.WebhookURL(); got != "https://bot.example.org/hook" {
		t.Errorf("WebhookURL = %q, want the bot's URL", got)
	}
	s.SendText(alice, alice, "hi")
	if d := rcv.next(t); d.updateID != 1 || d.secret != "abc" {
		t.Errorf("delivery = %+v, want update 1 with the secret", d)
	}
}
