package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/committeebot/committeebot/internal/clocktest"
)

// testToken looks like a real token so that escaping of its colon is
// exercised by the scrubbing checks.
const testToken = "123456:AAH-secret_TOKEN"

// fakeClock is the sender's and poller's time in tests: sleeping advances
// it at once, so waits are measured exactly and never taken.
// fakeClock is the step clock the sender under test reads and sleeps on.
type fakeClock = clocktest.Clock

func newFakeClock() *fakeClock { return clocktest.New(time.Date(2024, 12, 20, 9, 0, 0, 0, time.UTC)) }

// apiCall is one Bot API request the scripted server received.
type apiCall struct {
	Method string
	Params url.Values
	Files  map[string]string // multipart field → file content
	At     time.Time         // fake time of arrival (zero without a clock)
	N      int               // index among calls of the same method
	Status int               // status answered
}

// reply is the scripted server's answer to one call.
type reply struct {
	Status      int
	Body        string
	ContentType string
	Delay       time.Duration   // answer late (cut short if the client hangs up)
	Wait        <-chan struct{} // answer only once closed
}

func okReply(result string) reply {
	return reply{Status: http.StatusOK, Body: `{"ok":true,"result":` + result + `}`}
}

func errReply(code int, desc string, params string) reply {
	body := fmt.Sprintf(`{"ok":false,"error_code":%d,"description":%q`, code, desc)
	if params != "" {
		body += `,"parameters":` + params
	}
	return reply{Status: code, Body: body + "}"}
}

// messageReply echoes a sent message the way Telegram does.
func messageReply(c apiCall, id int) reply {
	chat := c.Params.Get("chat_id")
	if chat == "" {
		chat = "0"
	}
	text, _ := json.Marshal(c.Params.Get("text"))
	return okReply(fmt.Sprintf(`{"message_id":%d,"date":1,"chat":{"id":%s,"type":"private"},"text":%s}`, id, chat, text))
}

// scriptServer is a minimal Bot API whose answers a test scripts. getMe is
// answered (and not recorded) so that NewAPI works against it.
type scriptServer struct {
	srv   *httptest.Server
	clock *fakeClock
	reply func(c apiCall) reply
	recv  chan apiCall // every recorded call is also sent here if non-nil

	mu        sync.Mutex
	calls     []apiCall
	perMethod map[string]int
}

func newScriptServer(t *testing.T, clock *fakeClock, script func(c apiCall) reply) *scriptServer {
	t.Helper()
	s := &scriptServer{clock: clock, reply: script, perMethod: map[string]int{}}
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *scriptServer) Endpoint() string { return s.srv.URL + "/bot%s/%s" }

func (s *scriptServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok, method, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	w.Header().Set("Content-Type", "application/json")
	if tok != testToken {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
		return
	}
	if method == "getMe" {
		_, _ = io.WriteString(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"Test","username":"test_bot"}}`)
		return
	}
	c := apiCall{Method: method, Files: map[string]string{}}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if err := r.ParseMultipartForm(1 << 20); err == nil {
			for field, fhs := range r.MultipartForm.File {
				f, err := fhs[0].Open()
				if err == nil {
					b, _ := io.ReadAll(f)
					f.Close()
					c.Files[field] = string(b)
				}
			}
		}
	} else {
		_ = r.ParseForm()
	}
	c.Params = r.Form
	if s.clock != nil {
		c.At = s.clock.Now()
	}
	s.mu.Lock()
	c.N = s.perMethod[method]
	s.perMethod[method]++
	s.mu.Unlock()

	rep := s.reply(c)
	if rep.Status == 0 {
		rep.Status = http.StatusOK
	}
	c.Status = rep.Status
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	if s.recv != nil {
		s.recv <- c
	}

	if rep.Wait != nil {
		select {
		case <-rep.Wait:
		case <-r.Context().Done():
			return
		}
	}
	if rep.Delay > 0 {
		select {
		case <-time.After(rep.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if rep.ContentType != "" {
		w.Header().Set("Content-Type", rep.ContentType)
	}
	w.WriteHeader(rep.Status)
	_, _ = io.WriteString(w, rep.Body)
}

func (s *scriptServer) Calls() []apiCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]apiCall(nil), s.calls...)
}

func (s *scriptServer) CallsOf(method string) []apiCall {
	var out []apiCall
	for _, c := range s.Calls() {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// newTestAPI connects tgbotapi to the scripted server through NewAPI.
func newTestAPI(t *testing.T, s *scriptServer, timeout time.Duration) *tgbotapi.BotAPI {
	t.Helper()
	api, err := NewAPI(testToken, s.Endpoint(), timeout)
	if err != nil {
		t.Fatalf("NewAPI: %v", err)
	}
	return api
}

// newTestSender returns a sender on a fake clock with recorded metrics.
func newTestSender(t *testing.T, api Doer, clock *fakeClock, opts ...SenderOption) (*Sender, *fakeMetrics) {
	t.Helper()
	m := &fakeMetrics{}
	base := []SenderOption{
		WithClock(clock.Now),
		WithSleep(clock.Sleep),
		WithMetrics(m),
		WithLogger(slog.New(slog.DiscardHandler)),
	}
	s := NewSender(api, append(base, opts...)...)
	t.Cleanup(s.Close)
	return s, m
}

type fakeMetrics struct {
	mu      sync.Mutex
	queued  int
	floods  map[string]int
	retries map[string]int
	results map[string][]string // method → "ok" or error text
}

func (m *fakeMetrics) Queued(d int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queued += d
}

func (m *fakeMetrics) TooManyRequests(method string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.floods == nil {
		m.floods = map[string]int{}
	}
	m.floods[method]++
}

func (m *fakeMetrics) Retry(method string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.retries == nil {
		m.retries = map[string]int{}
	}
	m.retries[method]++
}

func (m *fakeMetrics) Result(method string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.results == nil {
		m.results = map[string][]string{}
	}
	r := "ok"
	if err != nil {
		r = err.Error()
	}
	m.results[method] = append(m.results[method], r)
}

func (m *fakeMetrics) snapshot() (queued int, floods, retries map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.queued, m.floods, m.retries
}

// sinceStart turns call times into offsets from t0, for readable diffs.
func sinceStart(t0 time.Time, calls []apiCall) []time.Duration {
	out := make([]time.Duration, len(calls))
	for i, c := range calls {
		out[i] = c.At.Sub(t0)
	}
	return out
}

func TestSenderWaitsOutFloodControlAndDeliversEachMessageOnce(t *testing.T) {
	clock := newFakeClock()
	var mu sync.Mutex
	floods := 0
	srv := newScriptServer(t, clock, func(c apiCall) reply {
		mu.Lock()
		defer mu.Unlock()
		// A storm: the first eight sends of any chat are refused.
		if floods < 8 {
			floods++
			return errReply(429, "Too Many Requests: retry after 3", `{"retry_after":3}`)
		}
		return messageReply(c, 100+c.N)
	})
	s, m := newTestSender(t, newTestAPI(t, srv, 5*time.Second), clock)

	texts := []string{"one", "two", "three", "four", "five"}
	var wg sync.WaitGroup
	errs := make([]error, len(texts))
	sent := make([]tgbotapi.Message, len(texts))
	for i, text := range texts {
		wg.Go(func() {
			sent[i], errs[i] = s.Send(t.Context(), tgbotapi.NewMessage(int64(10+i), text))
		})
	}
	wg.Wait()

	delivered := map[string]int{}
	for _, c := range srv.CallsOf("sendMessage") {
		if c.Status == http.StatusOK {
			delivered[c.Params.Get("text")]++
		}
	}
	want := map[string]int{"one": 1, "two": 1, "three": 1, "four": 1, "five": 1}
	if diff := cmp.Diff(want, delivered); diff != "" {
		t.Errorf("deliveries per message (-want +got):\n%s", diff)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("Send(%q): %v", texts[i], err)
		} else if sent[i].Text != texts[i] {
			t.Errorf("Send(%q) returned message text %q", texts[i], sent[i].Text)
		}
	}
	queued, fl, retries := m.snapshot()
	if diff := cmp.Diff(map[string]int{"sendMessage": 8}, fl); diff != "" {
		t.Errorf("429s counted (-want +got):\n%s", diff)
	}
	if len(retries) != 0 {
		t.Errorf("429 waits counted as retries: %v", retries)
	}
	if queued != 0 {
		t.Errorf("queued gauge = %d after all calls returned, want 0", queued)
	}
	for _, d := range clock.Slept() {
		if d > 3*time.Second {
			t.Errorf("waited %v, longer than retry_after", d)
		}
	}
}

func TestSenderHoldsBackDuringRetryAfter(t *testing.T) {
	clock := newFakeClock()
	srv := newScriptServer(t, clock, func(c apiCall) reply {
		switch {
		case c.Method == "sendDocument":
			return errReply(429, "Too Many Requests: retry after 7", `{"retry_after":7}`)
		case c.Method == "setMyCommands" && c.N == 0:
			return errReply(429, "Too Many Requests: retry after 5", `{"retry_after":5}`)
		case c.Method == "setMyCommands":
			return okReply("true")
		}
		return messageReply(c, 1)
	})
	s, _ := newTestSender(t, newTestAPI(t, srv, 5*time.Second), clock, WithLimits(rate.Inf, rate.Inf, 0))
	t0 := clock.Now()

	// A one-shot upload is refused by flood control and not repeated, but
	// its chat stays on hold for retry_after; other chats are not held.
	doc := tgbotapi.NewDocument(42, tgbotapi.FileReader{Name: "a.txt", Reader: strings.NewReader("a")})
	if _, ok := IsTooManyRequests(sendErr(s.Send(t.Context(), doc))); !ok {
		t.Fatal("upload refused with 429 did not return a 429 error")
	}
	for _, chat := range []int64{43, 42} {
		if _, err := s.Send(t.Context(), tgbotapi.NewMessage(chat, "after")); err != nil {
			t.Fatalf("Send to %d: %v", chat, err)
		}
	}
	// A call without a chat waits out its own 429 and retries.
	if _, err := s.Request(t.Context(), tgbotapi.NewSetMyCommands()); err != nil {
		t.Fatalf("setMyCommands: %v", err)
	}

	type at struct {
		Method string
		Chat   string
		At     time.Duration
	}
	var got []at
	for _, c := range srv.Calls() {
		got = append(got, at{c.Method, c.Params.Get("chat_id"), c.At.Sub(t0)})
	}
	want := []at{
		{"sendDocument", "42", 0},
		{"sendMessage", "43", 0},
		{"sendMessage", "42", 7 * time.Second},
		{"setMyCommands", "", 7 * time.Second},
		{"setMyCommands", "", 12 * time.Second},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func sendErr(_ tgbotapi.Message, err error) error { return err }

func TestSenderRetriesServerErrorsWithCappedBackoff(t *testing.T) {
	tests := []struct {
		name  string
		fail  reply
		fails int
	}{
		{"telegram 502", errReply(502, "Bad Gateway", ""), 2},
		{"proxy html 503", reply{Status: 503, Body: "<html>down</html>", ContentType: "text/html"}, 3},
		{"telegram 500", errReply(500, "Internal Server Error", ""), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			srv := newScriptServer(t, clock, func(c apiCall) reply {
				if c.N < tt.fails {
					return tt.fail
				}
				return messageReply(c, 9)
			})
			s, m := newTestSender(t, newTestAPI(t, srv, 5*time.Second), clock,
				WithBackoff(time.Second, 4*time.Second), WithLimits(rate.Inf, rate.Inf, 0))
			msg, err := s.Send(t.Context(), tgbotapi.NewMessage(42, "hello"))
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if msg.MessageID != 9 {
				t.Errorf("MessageID = %d, want 9", msg.MessageID)
			}
			if n := len(srv.CallsOf("sendMessage")); n != tt.fails+1 {
				t.Errorf("calls = %d, want %d", n, tt.fails+1)
			}
			_, _, retries := m.snapshot()
			if retries["sendMessage"] != tt.fails {
				t.Errorf("retries = %d, want %d", retries["sendMessage"], tt.fails)
			}
			slept := clock.Slept()
			if len(slept) != tt.fails {
				t.Fatalf("waits = %v, want %d of them", slept, tt.fails)
			}
			for i, d := range slept {
				ceil := min(time.Second<<i, 4*time.Second)
				if d < ceil/2 || d > ceil {
					t.Errorf("wait %d = %v, want within [%v, %v]", i, d, ceil/2, ceil)
				}
			}
		})
	}
}

func TestSenderGivesUpAfterMaxAttempts(t *testing.T) {
	clock := newFakeClock()
	srv := newScriptServer(t, clock, func(c apiCall) reply { return errReply(502, "Bad Gateway", "") })
	s, _ := newTestSender(t, newTestAPI(t, srv, 5*time.Second), clock, WithRetries(3))
	_, err := s.Send(t.Context(), tgbotapi.NewMessage(42, "hello"))
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 502 {
		t.Fatalf("err = %v, want *APIError 502", err)
	}
	if n := len(srv.CallsOf("sendMessage")); n != 3 {
		t.Errorf("calls = %d, want 3", n)
	}
}

func TestSenderRetriesTimeouts(t *testing.T) {
	srv := newScriptServer(t, nil, func(c apiCall) reply {
		if c.N == 0 {
			return reply{Status: 200, Body: `{"ok":true,"result":true}`, Delay: time.Minute}
		}
		return messageReply(c, 5)
	})
	clock := newFakeClock()
	// A real client timeout, short but one that a plain call keeps to on a
	// busy machine under the race detector; the retry's backoff is on the
	// fake clock.
	s, m := newTestSender(t, newTestAPI(t, srv, time.Second), clock)
	msg, err := s.Send(t.Context(), tgbotapi.NewMessage(42, "hello"))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if msg.MessageID != 5 {
		t.Errorf("MessageID = %d, want 5", msg.MessageID)
	}
	if _, _, retries := m.snapshot(); retries["sendMessage"] != 1 {
		t.Errorf("retries = %v, want one", retries)
	}
}

// passing is a context whose deadline passes when the test says.
type passing struct {
	context.Context
	done chan struct{}
}

func newPassing() *passing {
	return &passing{Context: context.Background(), done: make(chan struct{})}
}

func (c *passing) Done() <-chan struct{} { return c.done }

func (c *passing) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// A call that is not a message (a query, a setting) ends when its
// caller's deadline passes, while tgbotapi's HTTP request runs on: a
// handler out of time does not wait out a hung Telegram.
func TestSenderQueryEndsAtItsCallersDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := newScriptServer(t, nil, func(c apiCall) reply {
		r := okReply(`{"status":"member","user":{"id":7,"is_bot":false,"first_name":"A"}}`)
		r.Wait = release
		return r
	})
	srv.recv = make(chan apiCall, 1)
	defer close(release)
	s, _ := newTestSender(t, newTestAPI(t, srv, time.Minute), newFakeClock())
	ctx := newPassing()
	done := make(chan error, 1)
	go func() {
		_, err := s.Request(ctx, tgbotapi.GetChatMemberConfig{ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: -100, UserID: 7}})
		done <- err
	}()
	<-srv.recv // Telegram holds the call
	close(ctx.done)
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Request = %v, want the caller's context.DeadlineExceeded", err)
		}
	case <-time.After(30 * time.Second): // a guard against a hang, not a measure
		t.Fatal("Request waited for Telegram after its caller's deadline passed")
	}
}

func TestSenderDoesNotRetryRefusals(t *testing.T) {
	tests := []struct {
		name  string
		reply reply
		check func(error) bool
	}{
		{"not modified", errReply(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same", ""), IsNotModified},
		{"chat not found", errReply(400, "Bad Request: chat not found", ""), IsChatNotFound},
		{"blocked", errReply(403, "Forbidden: bot was blocked by the user", ""), IsBlocked},
		{"deactivated", errReply(403, "Forbidden: user is deactivated", ""), IsBlocked},
		{"never started", errReply(403, "Forbidden: bot can't initiate conversation with a user", ""), IsBlocked},
		{"unauthorized", errReply(401, "Unauthorized", ""), func(err error) bool { return !IsRetryable(err) }},
		{"not found", errReply(404, "Not Found", ""), func(err error) bool { return !IsRetryable(err) }},
		{"conflict", errReply(409, "Conflict: terminated by other getUpdates request", ""), func(err error) bool { return !IsRetryable(err) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			srv := newScriptServer(t, clock, func(apiCall) reply { return tt.reply })
			s, m := newTestSender(t, newTestAPI(t, srv, 5*time.Second), clock)
			_, err := s.Send(t.Context(), tgbotapi.NewEditMessageText(42, 7, "same"))
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if ae.Code != tt.reply.Status || ae.Method != "editMessageText" {
				t.Errorf("APIError = %+v, want code %d for editMessageText", ae, tt.reply.Status)
			}
			if !tt.check(err) {
				t.Errorf("typed helper did not recognise %v", err)
			}
			if n := len(srv.Calls()); n != 1 {
				t.Errorf("calls = %d, want 1 (no retry)", n)
			}
			if _, _, retries := m.snapshot(); len(retries) != 0 {
				t.Errorf("retries = %v, want none", retries)
			}
		})
	}
}

func TestSenderReportsGroupMigration(t *testing.T) {
	clock := newFakeClock()
	srv := newScriptServer(t, clock, func(apiCall) reply {
		return errReply(400, "Bad Request: group chat was upgraded to a supergroup chat", `{"migrate_to_chat_id":-1001234}`)
	})
	s, _ := newTestSender(t, newTestAPI(t, srv, 5*time.Second), clock)
	_, err := s.Send(t.Context(), tgbotapi.NewMessage(-42, "hello"))
	ae, ok := AsAPIError(err)
	if !ok || ae.MigrateToChatID != -1001234 {
		t.Fatalf("err = %v, want APIError with MigrateToChatID -1001234", err)
	}
	if n := len(srv.Calls()); n != 1 {
		t.Errorf("calls = %d, want 1", n)
	}
}

func TestSenderSpacesCallsPerLimit(t *testing.T) {
	type send func(s *Sender, i int) error
	message := func(chat int64) send {
		return func(s *Sender, i int) error {
			_, err := s.Send(context.Background(), tgbotapi.NewMessage(chat, fmt.Sprint("m", i)))
			return err
		}
	}
	tests := []struct {
		name   string
		limits SenderOption
		n      int
		send   send
		want   []time.Duration
	}{
		{
			name:   "private chat: burst of 3 then 1 per second",
			limits: WithLimits(rate.Inf, 1, 20),
			n:      6,
			send:   message(42),
			want:   []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 3 * time.Second},
		},
		{
			name:   "group: 20 per minute, bursts allowed",
			limits: WithLimits(rate.Inf, rate.Inf, 20),
			n:      4,
			send:   message(-100777),
			want:   []time.Duration{0, 0, 0, 0},
		},
		{
			name:   "global: 2 per second across chats",
			limits: WithLimits(2, rate.Inf, 0),
			n:      4,
			send: func(s *Sender, i int) error {
				_, err := s.Send(context.Background(), tgbotapi.NewMessage(int64(i+1), "x"))
				return err
			},
			want: []time.Duration{0, 0, 500 * time.Millisecond, time.Second},
		},
		{
			name:   "edits: gentler, twice the chat rate",
			limits: WithLimits(rate.Inf, 1, 20),
			n:      7,
			send: func(s *Sender, i int) error {
				_, err := s.Send(context.Background(), tgbotapi.NewEditMessageText(42, 7, fmt.Sprint("v", i)))
				return err
			},
			want: []time.Duration{0, 0, 0, 0, 0, 500 * time.Millisecond, time.Second},
		},
		{
			name:   "callback answers: not limited per chat",
			limits: WithLimits(1, 1, 1),
			n:      5,
			send: func(s *Sender, i int) error {
				_, err := s.Request(context.Background(), tgbotapi.NewCallback(fmt.Sprint("q", i), "ok"))
				return err
			},
			want: []time.Duration{0, 0, 0, 0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			srv := newScriptServer(t, clock, func(c apiCall) reply {
				if c.Method == "answerCallbackQuery" {
					return okReply("true")
				}
				return messageReply(c, 1)
			})
			s, _ := newTestSender(t, newTestAPI(t, srv, 5*time.Second), clock, tt.limits)
			t0 := clock.Now()
			for i := range tt.n {
				if err := tt.send(s, i); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			if diff := cmp.Diff(tt.want, sinceStart(t0, srv.Calls())); diff != "" {
				t.Errorf("call times (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSenderDropsIdleChatLimiters(t *testing.T) {
	clock := newFakeClock()
	srv := newScriptServer(t, clock, func(c apiCall) reply { return messageReply(c, 1) })
	s, _ := newTestSender(t, newTestAPI(t, srv, 5*time.Second), clock)
	for chat := range int64(50) {
		if _, err := s.Send(t.Context(), tgbotapi.NewMessage(chat+1, "hi")); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	if n := s.trackedChats(); n != 50 {
		t.Fatalf("tracked chats = %d, want 50", n)
	}
	clock.Advance(2 * time.Minute)
	if _, err := s.Send(t.Context(), tgbotapi.NewMessage(999, "hi")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if n := s.trackedChats(); n != 1 {
		t.Errorf("tracked chats after idle period = %d, want 1", n)
	}
}

func TestSenderResultTrueGivesEmptyMessage(t *testing.T) {
	clock := newFakeClock()
	srv := newScriptServer(t, clock, func(apiCall) reply { return okReply("true") })
	s, _ := newTestSender(t, newTestAPI(t, srv, 5*time.Second), clock)

	edit := tgbotapi.EditMessageTextConfig{BaseEdit: tgbotapi.BaseEdit{InlineMessageID: "abc"}, Text: "x"}
	msg, err := s.Send(t.Context(), edit)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if diff := cmp.Diff(tgbotapi.Message{}, msg); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	resp, err := s.Request(t.Context(), tgbotapi.NewDeleteMessage(42, 7))
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	if string(resp.Result) != "true" {
		t.Errorf("result = %s, want true", resp.Result)
	}
	if _, err := s.Request(t.Context(), tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "help", Description: "Help"})); err != nil {
		t.Fatalf("setMyCommands: %v", err)
	}
	var methods []string
	for _, c := range srv.Calls() {
		methods = append(methods, c.Method)
	}
	if diff := cmp.Diff([]string{"editMessageText", "deleteMessage", "setMyCommands"}, methods); diff != "" {
		t.Errorf("methods (-want +got):\n%s", diff)
	}
}

func TestSenderUploadsDocuments(t *testing.T) {
	tests := []struct {
		name      string
		file      tgbotapi.RequestFileData
		wantCalls int
		wantErr   bool
	}{
		{"bytes survive a retry", tgbotapi.FileBytes{Name: "minutes.txt", Bytes: []byte("tally")}, 2, false},
		{"a reader is never replayed", tgbotapi.FileReader{Name: "minutes.txt", Reader: strings.NewReader("tally")}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			srv := newScriptServer(t, clock, func(c apiCall) reply {
				if c.N == 0 {
					return errReply(502, "Bad Gateway", "")
				}
				return okReply(`{"message_id":3,"date":1,"chat":{"id":42,"type":"private"},"document":{"file_id":"F","file_unique_id":"U"}}`)
			})
			s, _ := newTestSender(t, newTestAPI(t, srv, 5*time.Second), clock)
			msg, err := s.Send(t.Context(), tgbotapi.NewDocument(42, tt.file))
			if tt.wantErr {
				if ae, ok := AsAPIError(err); !ok || ae.Code != 502 || ae.Method != "sendDocument" {
					t.Fatalf("err = %v, want APIError 502 of sendDocument", err)
				}
			} else {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if msg.Document == nil || msg.Document.FileID != "F" {
					t.Errorf("document = %+v, want file F", msg.Document)
				}
			}
			calls := srv.CallsOf("sendDocument")
			if len(calls) != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", len(calls), tt.wantCalls)
			}
			for i, c := range calls {
				if c.Files["document"] != "tally" || c.Params.Get("chat_id") != "42" {
					t.Errorf("call %d sent file %q to chat %q, want \"tally\" to 42", i, c.Files["document"], c.Params.Get("chat_id"))
				}
			}
		})
	}
}

func TestSenderCallPassesNewerParams(t *testing.T) {
	clock := newFakeClock()
	srv := newScriptServer(t, clock, func(apiCall) reply { return okReply("true") })
	s, _ := newTestSender(t, newTestAPI(t, srv, 5*time.Second), clock)
	err := SetWebhook(t.Context(), s, "https://bot.example.org/hook", "s3cret_Token-1", DefaultAllowedUpdates(), true)
	if err != nil {
		t.Fatalf("SetWebhook: %v", err)
	}
	calls := srv.CallsOf("setWebhook")
	if len(calls) != 1 {
		t.Fatalf("setWebhook calls = %d, want 1", len(calls))
	}
	got := map[string]string{}
	for k := range calls[0].Params {
		got[k] = calls[0].Params.Get(k)
	}
	want := map[string]string{
		"url":                  "https://bot.example.org/hook",
		"secret_token":         "s3cret_Token-1",
		"allowed_updates":      `["message","edited_message","callback_query","my_chat_member","chat_member"]`,
		"drop_pending_updates": "true",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("setWebhook params (-want +got):\n%s", diff)
	}

	for _, bad := range []string{"", "has space", strings.Repeat("a", 257), "émoji"} {
		if err := SetWebhook(t.Context(), s, "https://x", bad, nil, false); !errors.Is(err, ErrBadSecretToken) {
			t.Errorf("SetWebhook(secret %q) = %v, want ErrBadSecretToken", bad, err)
		}
	}
	if n := len(srv.CallsOf("setWebhook")); n != 1 {
		t.Errorf("bad secrets reached Telegram: %d calls", n)
	}
}

func TestSenderNeverLeaksTheToken(t *testing.T) {
	build := []struct {
		name string
		api  func(t *testing.T, endpoint string) *tgbotapi.BotAPI
	}{
		{"NewAPI client", func(t *testing.T, endpoint string) *tgbotapi.BotAPI {
			api, err := NewAPI(testToken, endpoint, 5*time.Second)
			if err != nil {
				t.Fatalf("NewAPI: %v", err)
			}
			return api
		}},
		{"plain tgbotapi client", func(t *testing.T, endpoint string) *tgbotapi.BotAPI {
			api, err := tgbotapi.NewBotAPIWithClient(testToken, endpoint, &http.Client{Timeout: 5 * time.Second})
			if err != nil {
				t.Fatalf("NewBotAPIWithClient: %v", err)
			}
			return api
		}},
	}
	for _, b := range build {
		t.Run(b.name, func(t *testing.T) {
			clock := newFakeClock()
			srv := newScriptServer(t, clock, func(c apiCall) reply { return messageReply(c, 1) })
			api := b.api(t, srv.Endpoint())
			var logs bytes.Buffer
			s, _ := newTestSender(t, api, clock, WithRetries(2),
				WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			srv.srv.Close() // every call now fails with a connection error naming the URL

			_, err := s.Send(t.Context(), tgbotapi.NewMessage(42, "hello"))
			if err == nil {
				t.Fatal("Send to a closed server succeeded")
			}
			_, err2 := s.Call(t.Context(), "setWebhook", tgbotapi.Params{"url": "https://x"})
			for _, e := range []error{err, err2} {
				assertNoToken(t, "error", e.Error())
				if !IsRetryable(e) {
					t.Errorf("connection error %v not retryable", e)
				}
			}
			assertNoToken(t, "log", logs.String())
			if !strings.Contains(err.Error(), redactedToken) {
				t.Errorf("error %q does not show where the token was", err)
			}
		})
	}
}

func assertNoToken(t *testing.T, what, s string) {
	t.Helper()
	for _, form := range tokenForms(testToken) {
		if strings.Contains(s, form) {
			t.Errorf("%s contains the token: %s", what, s)
		}
	}
	if strings.Contains(s, "secret_TOKEN") {
		t.Errorf("%s contains part of the token: %s", what, s)
	}
}

func TestSenderFlushWaitsForCallsInFlight(t *testing.T) {
	release := make(chan struct{})
	srv := newScriptServer(t, nil, func(c apiCall) reply {
		r := messageReply(c, 1)
		r.Wait = release
		return r
	})
	srv.recv = make(chan apiCall, 1)
	clock := newFakeClock()
	s, _ := newTestSender(t, newTestAPI(t, srv, 5*time.Second), clock)

	sendErr := make(chan error, 1)
	go func() {
		_, err := s.Send(context.Background(), tgbotapi.NewMessage(42, "in flight"))
		sendErr <- err
	}()
	<-srv.recv // the call reached Telegram

	flushed := make(chan error, 1)
	go func() { flushed <- s.Flush(context.Background()) }()

	// Flush closes at once: new calls are refused while the old one runs.
	waitUntil(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.closed
	})
	if _, err := s.Send(context.Background(), tgbotapi.NewMessage(42, "late")); !errors.Is(err, ErrSenderClosed) {
		t.Errorf("Send during Flush = %v, want ErrSenderClosed", err)
	}
	select {
	case err := <-flushed:
		t.Fatalf("Flush returned %v while a call was in flight", err)
	default:
	}
	close(release)
	if err := <-sendErr; err != nil {
		t.Errorf("in-flight Send: %v", err)
	}
	if err := <-flushed; err != nil {
		t.Errorf("Flush: %v", err)
	}
	if n := len(srv.Calls()); n != 1 {
		t.Errorf("calls = %d, want 1", n)
	}
}

func TestSenderFlushDeadlineAbortsWaitingCalls(t *testing.T) {
	srv := newScriptServer(t, nil, func(apiCall) reply {
		return errReply(429, "Too Many Requests: retry after 3600", `{"retry_after":3600}`)
	})
	srv.recv = make(chan apiCall, 1)
	// Real sleeping here: the call really waits an hour unless aborted.
	s := NewSender(newTestAPI(t, srv, 5*time.Second))
	sendErr := make(chan error, 1)
	go func() {
		_, err := s.Send(context.Background(), tgbotapi.NewMessage(42, "x"))
		sendErr <- err
	}()
	<-srv.recv

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush = %v, want context.Canceled", err)
	}
	select {
	case err := <-sendErr:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("waiting Send = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waiting Send was not aborted by Flush")
	}
}

func TestSenderFlushWithNothingInFlight(t *testing.T) {
	s := NewSender(nil)
	if err := s.Flush(t.Context()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if _, err := s.Call(t.Context(), "getMe", nil); !errors.Is(err, ErrSenderClosed) {
		t.Errorf("Call after Flush = %v, want ErrSenderClosed", err)
	}
}

// waitUntil polls cond; a safety net for conditions reached by another
// goroutine, never a timing assertion.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDescribeCall(t *testing.T) {
	tests := []struct {
		name       string
		c          tgbotapi.Chattable
		wantMethod string
		wantChat   string
		wantKind   callKind
	}{
		{"message", tgbotapi.NewMessage(42, "x"), "sendMessage", "42", kindSend},
		{"group message", tgbotapi.NewMessage(-1001, "x"), "sendMessage", "-1001", kindSend},
		{"channel by name", tgbotapi.NewMessageToChannel("@news", "x"), "sendMessage", "@news", kindSend},
		{"uploaded document", tgbotapi.NewDocument(42, tgbotapi.FileBytes{Name: "a", Bytes: []byte("b")}), "sendDocument", "42", kindSend},
		{"document by id", tgbotapi.NewDocument(42, tgbotapi.FileID("F")), "sendDocument", "42", kindSend},
		{"edit text", tgbotapi.NewEditMessageText(42, 1, "x"), "editMessageText", "42", kindEdit},
		{"edit markup", tgbotapi.NewEditMessageReplyMarkup(42, 1, tgbotapi.NewInlineKeyboardMarkup()), "editMessageReplyMarkup", "42", kindEdit},
		{"callback answer", tgbotapi.NewCallback("q", "x"), "answerCallbackQuery", "", kindOther},
		{"delete", tgbotapi.NewDeleteMessage(42, 1), "deleteMessage", "42", kindOther},
		{"chat action", tgbotapi.NewChatAction(42, tgbotapi.ChatTyping), "sendChatAction", "42", kindOther},
		{"member", tgbotapi.GetChatMemberConfig{ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: -5, UserID: 7}}, "getChatMember", "-5", kindOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, chat := describeCall(tt.c)
			if method != tt.wantMethod || chat != tt.wantChat {
				t.Errorf("describeCall = (%q, %q), want (%q, %q)", method, chat, tt.wantMethod, tt.wantChat)
			}
			if k := classifyMethod(method); k != tt.wantKind {
				t.Errorf("classifyMethod(%q) = %d, want %d", method, k, tt.wantKind)
			}
		})
	}
}

// The fast encoding of editMessageText gives what tgbotapi's serialiser
// gives, parameter for parameter.
func TestEncodeCallOfAnEditAsTgbotapiDoes(t *testing.T) {
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("Đồng ý", "bvs:1:2:0")))
	plainEdit := tgbotapi.NewEditMessageText(42, 7, "<b>Phiếu</b> & \"x\"")
	html := plainEdit
	html.ParseMode, html.DisableWebPagePreview, html.ReplyMarkup = tgbotapi.ModeHTML, true, &kb
	channel := tgbotapi.EditMessageTextConfig{BaseEdit: tgbotapi.BaseEdit{ChannelUsername: "@khoi", MessageID: 3}, Text: "t",
		Entities: []tgbotapi.MessageEntity{{Type: "bold", Offset: 0, Length: 1}}}
	inline := tgbotapi.EditMessageTextConfig{BaseEdit: tgbotapi.BaseEdit{InlineMessageID: "abc", ChatID: 5}, Text: ""}
	for _, c := range []tgbotapi.EditMessageTextConfig{plainEdit, html, channel, inline} {
		method, got, err := EncodeCall(c)
		if err != nil || method != "editMessageText" {
			t.Fatalf("EncodeCall(%+v) = %q, %v", c, method, err)
		}
		var w formRecorder
		if err := tgbotapi.WriteToHTTPResponse(&w, c); err != nil {
			t.Fatal(err)
		}
		want, _ := url.ParseQuery(w.body.String())
		want.Del("method")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("EncodeCall(%+v)\n got %v\nwant %v", c, got, want)
		}
		if m, chat := describeCall(c); m != "editMessageText" || chat != want.Get("chat_id") {
			t.Errorf("describeCall(%+v) = %q, %q; want editMessageText, %q", c, m, chat, want.Get("chat_id"))
		}
	}
}
