package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recordingSink records the updates it is given and fails with err.
type recordingSink struct {
	mu  sync.Mutex
	got []int
	err error
}

func (s *recordingSink) Handle(_ context.Context, u Update) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, u.UpdateID)
	return s.err
}

func (s *recordingSink) handled() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.got...)
}

const (
	hookSecret = "hook_Secret-42"
	updateJSON = `{"update_id":1001,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"text":"/start"}}`
)

func TestWebhook(t *testing.T) {
	tests := []struct {
		name       string
		secret     string // configured
		method     string
		header     *string // secret token header sent; nil for none
		body       string
		sinkErr    error
		closed     bool
		wantStatus int
		wantHandle []int
		wantResult string // counted by WebhookMetrics
	}{
		{name: "right secret", secret: hookSecret, header: ptr(hookSecret), body: updateJSON, wantStatus: 200, wantHandle: []int{1001}, wantResult: "ok"},
		{name: "wrong secret", secret: hookSecret, header: ptr("hook_Secret-43"), body: updateJSON, wantStatus: 401, wantResult: "unauthorized"},
		{name: "secret prefix", secret: hookSecret, header: ptr("hook_"), body: updateJSON, wantStatus: 401, wantResult: "unauthorized"},
		{name: "missing secret", secret: hookSecret, body: updateJSON, wantStatus: 401, wantResult: "unauthorized"},
		{name: "no secret configured", secret: "", header: ptr(""), body: updateJSON, wantStatus: 401, wantResult: "unauthorized"},
		{name: "garbage", secret: hookSecret, header: ptr(hookSecret), body: "{not json", wantStatus: 400, wantResult: "malformed"},
		{name: "no update id", secret: hookSecret, header: ptr(hookSecret), body: `{"message":{}}`, wantStatus: 400, wantResult: "malformed"},
		{name: "too large", secret: hookSecret, header: ptr(hookSecret), body: `{"update_id":1,"x":"` + strings.Repeat("a", 2<<20) + `"}`, wantStatus: 413, wantResult: "too_large"},
		{name: "sink error", secret: hookSecret, header: ptr(hookSecret), body: updateJSON, sinkErr: errors.New("redis down"), wantStatus: 500, wantHandle: []int{1001}, wantResult: "failed"},
		{name: "shutting down", secret: hookSecret, header: ptr(hookSecret), body: updateJSON, closed: true, wantStatus: 503, wantResult: "closing"},
		{name: "GET", secret: hookSecret, method: http.MethodGet, header: ptr(hookSecret), wantStatus: 405, wantResult: "method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recordingSink{err: tt.sinkErr}
			m := &webhookCounts{}
			h := NewWebhook(sink, tt.secret, WithWebhookMetrics(m))
			if tt.closed {
				h.Close()
			}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/telegram", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.header != nil {
				req.Header.Set(SecretTokenHeader, *tt.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %q)", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if diff := cmp.Diff(tt.wantHandle, sink.handled()); diff != "" {
				t.Errorf("handled updates (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{tt.wantResult}, m.results()); diff != "" {
				t.Errorf("counted results (-want +got):\n%s", diff)
			}
		})
	}
}

// webhookCounts records WebhookMetrics observations.
type webhookCounts struct {
	mu  sync.Mutex
	got []string
}

func (c *webhookCounts) WebhookRequest(result string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, result)
}

func (c *webhookCounts) WebhookReply(method string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, "reply "+method)
}

func (c *webhookCounts) results() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

func ptr[T any](v T) *T { return &v }

// blockingSink holds each update until released.
type blockingSink struct {
	started chan struct{}
	release chan struct{}
}

func (s *blockingSink) Handle(ctx context.Context, _ Update) error {
	close(s.started)
	<-s.release
	return ctx.Err()
}

// postUpdate delivers updateJSON, with the secret, to the webhook served
// on ln, as Telegram does.
func postUpdate(ln net.Listener) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/", strings.NewReader(updateJSON))
	if err != nil {
		return nil, err
	}
	req.Header.Set(SecretTokenHeader, hookSecret)
	return http.DefaultClient.Do(req)
}

func TestServeWebhookFinishesInFlightDeliveriesOnShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink := &blockingSink{started: make(chan struct{}), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- ServeWebhookOn(ctx, t.Context(), ln, NewWebhook(sink, hookSecret), nil) }()

	status := make(chan int, 1)
	go func() {
		resp, err := postUpdate(ln)
		if err != nil {
			status <- -1
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	<-sink.started
	cancel() // shutdown begins while the update is being handled
	select {
	case err := <-served:
		t.Fatalf("server returned %v with a delivery in flight", err)
	default:
	}
	close(sink.release)
	if got := <-status; got != http.StatusOK {
		t.Errorf("in-flight delivery answered %d, want 200 (handler context must not be cancelled)", got)
	}
	if err := <-served; err != nil {
		t.Errorf("ServeWebhookOn = %v, want nil", err)
	}
}

// When the shutdown's budget (drain) ends with a delivery still being
// handled, the server does not wait for it: the connection is closed
// without an answer, so Telegram delivers the update again, and
// ServeWebhook says so.
func TestServeWebhookCutsDeliveriesOffWhenDrainEnds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink := &blockingSink{started: make(chan struct{}), release: make(chan struct{})}
	defer close(sink.release) // the handler outlives the server
	ctx, cancel := context.WithCancel(t.Context())
	drain, spend := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- ServeWebhookOn(ctx, drain, ln, NewWebhook(sink, hookSecret), nil) }()

	answered := make(chan error, 1)
	go func() {
		resp, err := postUpdate(ln)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("answered %d", resp.StatusCode)
		}
		answered <- err
	}()
	<-sink.started
	cancel() // shutdown begins while the update is being handled
	select {
	case err := <-served:
		t.Fatalf("server returned %v before its drain ended", err)
	default:
	}
	spend() // the budget is spent; the handler still runs
	if err := <-served; !errors.Is(err, ErrDeliveriesCut) {
		t.Errorf("ServeWebhookOn = %v, want ErrDeliveriesCut", err)
	}
	if err := <-answered; strings.HasPrefix(err.Error(), "answered") {
		t.Errorf("a delivery cut off was %s; want no answer, so that Telegram delivers it again", err)
	}
}

func TestServeWebhookReportsListenErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = ServeWebhook(t.Context(), t.Context(), ln.Addr().String(), http.NotFoundHandler(), nil)
	if err == nil {
		t.Fatal("ServeWebhook on a taken address succeeded")
	}
}

// A button pressed through the webhook is answered in the response to
// Telegram's request, not with a call of its own; other updates get an
// empty 200.
func TestWebhookAnswersAButtonInItsResponse(t *testing.T) {
	rr := &recordingRequester{}
	h := Chain(func(_ context.Context, r *Request) error {
		if _, ok := r.Callback(); ok {
			r.Answer("Đã ghi phiếu: K7Q2", true)
		}
		return nil
	}, Recover(discard), AutoRespond(rr, discard))
	d := NewDispatcher(h, "me", 2, time.Minute, discard)
	defer d.Stop()
	m := &webhookCounts{}
	hook := NewWebhook(d, hookSecret, WithWebhookMetrics(m))
	post := func(body string) (int, string, string) {
		req := httptest.NewRequest(http.MethodPost, "/telegram", strings.NewReader(body))
		req.Header.Set(SecretTokenHeader, hookSecret)
		rec := httptest.NewRecorder()
		hook.ServeHTTP(rec, req)
		return rec.Code, rec.Header().Get("Content-Type"), rec.Body.String()
	}
	code, ctype, body := post(`{"update_id":7,"callback_query":{"id":"q-9","from":{"id":1,"first_name":"A"},"data":"bvs:1:2:0","message":{"message_id":3,"chat":{"id":1,"type":"private"}}}}`)
	want := `{"method":"answerCallbackQuery","callback_query_id":"q-9","text":"Đã ghi phiếu: K7Q2","show_alert":true}`
	if code != http.StatusOK || ctype != "application/json" || body != want {
		t.Errorf("button: %d %q %s; want 200 application/json %s", code, ctype, body, want)
	}
	if code, _, body := post(updateJSON); code != http.StatusOK || body != "" {
		t.Errorf("message: %d %q; want an empty 200", code, body)
	}
	if len(rr.sent) != 0 {
		t.Errorf("%d calls made; want the answer in the response only", len(rr.sent))
	}
	if diff := cmp.Diff([]string{"reply answerCallbackQuery", "ok", "ok"}, m.results()); diff != "" {
		t.Errorf("counted (-want +got):\n%s", diff)
	}
}
