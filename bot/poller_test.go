package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"
)

// fakeUpdates is a getUpdates endpoint with Telegram's offset semantics: a
// call with offset N confirms (forgets) every update below N; unconfirmed
// updates are returned again. Errors can be queued ahead of the updates.
type fakeUpdates struct {
	mu      sync.Mutex
	pending []int // update ids not yet confirmed
	errs    []error
	calls   []tgbotapi.Params
	// onEmpty runs when a poll finds nothing to return; tests use it to
	// stop the poller once everything was delivered.
	onEmpty func()
	// block, if set, makes every poll wait for it to close.
	block chan struct{}
}

func (f *fakeUpdates) Request(tgbotapi.Chattable) (*tgbotapi.APIResponse, error) {
	return nil, errors.New("fakeUpdates: Request not supported")
}

func (f *fakeUpdates) MakeRequest(method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error) {
	f.mu.Lock()
	f.calls = append(f.calls, params)
	block := f.block
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if method == "deleteWebhook" {
		return &tgbotapi.APIResponse{Ok: true, Result: json.RawMessage("true")}, nil
	}
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return &tgbotapi.APIResponse{}, err
	}
	offset, _ := strconv.Atoi(params["offset"])
	var keep []int
	for _, id := range f.pending {
		if id >= offset {
			keep = append(keep, id)
		}
	}
	f.pending = keep
	if len(keep) == 0 && f.onEmpty != nil {
		f.onEmpty()
	}
	var ups []tgbotapi.Update
	for _, id := range keep {
		ups = append(ups, tgbotapi.Update{UpdateID: id, Message: &tgbotapi.Message{Text: fmt.Sprint("u", id), Chat: &tgbotapi.Chat{ID: 1}}})
	}
	b, _ := json.Marshal(ups)
	if ups == nil {
		b = []byte("[]")
	}
	return &tgbotapi.APIResponse{Ok: true, Result: b}, nil
}

// offsets returns the offset parameter of every call ("" for none).
func (f *fakeUpdates) offsets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.calls {
		out = append(out, p["offset"])
	}
	return out
}

// sinkFunc adapts a function to UpdateSink; it handles every update.
type sinkFunc func(ctx context.Context, updates []Update)

func (f sinkFunc) HandleBatch(ctx context.Context, updates []Update) int {
	f(ctx, updates)
	return 0
}

func ids(updates []Update) []int {
	var out []int
	for _, u := range updates {
		out = append(out, u.UpdateID)
	}
	return out
}

func tgErr(code int, desc string, retryAfter int) error {
	return &tgbotapi.Error{Code: code, Message: desc, ResponseParameters: tgbotapi.ResponseParameters{RetryAfter: retryAfter}}
}

func TestPollerConfirmsOnlyHandledUpdates(t *testing.T) {
	tests := []struct {
		name string
		// interrupt is how the first poller fails while handling its
		// first batch.
		interrupt func(cancel context.CancelFunc)
	}{
		{"shutdown mid-batch", func(cancel context.CancelFunc) { cancel() }},
		{"handler crash", func(context.CancelFunc) { panic("handler crashed") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeUpdates{pending: []int{7, 8, 9}}
			clock := newFakeClock()

			// First instance: fails while handling the batch.
			ctx1, cancel1 := context.WithCancel(t.Context())
			defer cancel1()
			var first [][]int
			p1 := NewPoller(api, sinkFunc(func(_ context.Context, ups []Update) {
				first = append(first, ids(ups))
				tt.interrupt(cancel1)
			}), WithPollSleep(clock.Sleep))
			if err := runRecovering(ctx1, p1); err != nil {
				t.Fatalf("first Run: %v", err)
			}

			// Second instance: gets the same updates again, handles them
			// and confirms them with its next poll.
			ctx2, cancel2 := context.WithCancel(t.Context())
			defer cancel2()
			api.mu.Lock()
			api.onEmpty = cancel2
			api.mu.Unlock()
			var second [][]int
			p2 := NewPoller(api, sinkFunc(func(_ context.Context, ups []Update) {
				second = append(second, ids(ups))
			}), WithPollSleep(clock.Sleep))
			if err := p2.Run(ctx2); err != nil {
				t.Fatalf("second Run: %v", err)
			}

			if diff := cmp.Diff([][]int{{7, 8, 9}}, first); diff != "" {
				t.Errorf("first instance batches (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([][]int{{7, 8, 9}}, second); diff != "" {
				t.Errorf("second instance batches (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"", "", "10"}, api.offsets()); diff != "" {
				t.Errorf("offsets sent (-want +got):\n%s", diff)
			}
		})
	}
}

// runRecovering runs p, turning a panic of the sink into a return, the way
// a crashed process would simply be gone.
func runRecovering(ctx context.Context, p *Poller) (err error) {
	defer func() { _ = recover() }()
	return p.Run(ctx)
}

func TestPollerAdvancesOffsetBatchByBatch(t *testing.T) {
	api := &fakeUpdates{pending: []int{3, 4}}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var batches [][]int
	p := NewPoller(api, sinkFunc(func(_ context.Context, ups []Update) {
		batches = append(batches, ids(ups))
		api.mu.Lock()
		defer api.mu.Unlock()
		if len(batches) == 1 {
			api.pending = append(api.pending, 5) // arrives while handling
		} else {
			api.onEmpty = cancel
		}
	}), WithPollSleep(newFakeClock().Sleep))
	if err := p.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff([][]int{{3, 4}, {5}}, batches); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"", "5", "6"}, api.offsets()); diff != "" {
		t.Errorf("offsets (-want +got):\n%s", diff)
	}
}

func TestPollerSendsLongPollParams(t *testing.T) {
	api := &fakeUpdates{}
	ctx, cancel := context.WithCancel(t.Context())
	api.onEmpty = cancel
	p := NewPoller(api, sinkFunc(func(context.Context, []Update) {}), WithDeleteWebhook(true))
	if err := p.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []tgbotapi.Params{
		{"drop_pending_updates": "true"},
		{"timeout": "50", "limit": "100", "allowed_updates": `["message","edited_message","callback_query","my_chat_member","chat_member"]`},
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if diff := cmp.Diff(want, api.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestPollerBacksOffOnErrors(t *testing.T) {
	var errs []error
	for range 8 {
		errs = append(errs, tgErr(502, "Bad Gateway", 0))
	}
	errs = append(errs, tgErr(429, "Too Many Requests: retry after 7", 7), errors.New("connection reset"))
	api := &fakeUpdates{errs: errs}
	ctx, cancel := context.WithCancel(t.Context())
	api.onEmpty = cancel
	clock := newFakeClock()
	p := NewPoller(api, sinkFunc(func(context.Context, []Update) {}), WithPollSleep(clock.Sleep))
	if err := p.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	s := time.Second
	want := []time.Duration{1 * s, 2 * s, 4 * s, 8 * s, 16 * s, 30 * s, 30 * s, 30 * s, 7 * s, 30 * s}
	if diff := cmp.Diff(want, clock.Slept()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestPollerReportsConflictOncePerStreak(t *testing.T) {
	conflict := tgErr(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running", 0)
	api := &fakeUpdates{errs: []error{conflict, conflict, conflict}}
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	polls := 0
	api.onEmpty = func() {
		polls++
		if polls == 1 { // a second streak after one good poll
			api.errs = []error{conflict, conflict}
			return
		}
		cancel()
	}
	p := NewPoller(api, sinkFunc(func(context.Context, []Update) {}),
		WithPollSleep(newFakeClock().Sleep),
		WithPollLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if err := p.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	var errorLines int
	for line := range strings.Lines(logs.String()) {
		var rec struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec.Level == "ERROR" {
			errorLines++
			if !strings.Contains(rec.Msg, "another instance is polling") {
				t.Errorf("conflict logged as %q", rec.Msg)
			}
		}
	}
	if errorLines != 2 {
		t.Errorf("conflict logged %d times, want once per streak (2):\n%s", errorLines, logs.String())
	}
}

func TestPollerStopsWhenTheTokenIsRejected(t *testing.T) {
	for _, code := range []int{401, 404} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			api := &fakeUpdates{errs: []error{tgErr(code, "Unauthorized", 0)}}
			p := NewPoller(api, sinkFunc(func(context.Context, []Update) {}), WithPollSleep(newFakeClock().Sleep))
			err := p.Run(t.Context())
			if !errors.Is(err, ErrTokenRejected) {
				t.Errorf("Run = %v, want ErrTokenRejected", err)
			}
			if ae, ok := AsAPIError(err); !ok || ae.Code != code {
				t.Errorf("Run = %v, want APIError %d in chain", err, code)
			}
		})
	}
}

func TestPollerReturnsNilWhenCancelledMidPoll(t *testing.T) {
	api := &fakeUpdates{block: make(chan struct{})}
	t.Cleanup(func() { close(api.block) }) // let the abandoned poll finish
	ctx, cancel := context.WithCancel(t.Context())
	p := NewPoller(api, sinkFunc(func(context.Context, []Update) {}))
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitUntil(t, func() bool {
		api.mu.Lock()
		defer api.mu.Unlock()
		return len(api.calls) == 1
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestPollerFinishesTheBatchBeforeReturning(t *testing.T) {
	api := &fakeUpdates{pending: []int{1}}
	ctx, cancel := context.WithCancel(t.Context())
	finished := false
	p := NewPoller(api, sinkFunc(func(ctx context.Context, _ []Update) {
		cancel() // shutdown requested while handling
		finished = true
	}))
	if err := p.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !finished {
		t.Error("Run returned before the sink finished the batch")
	}
}

func TestPollerNeverLogsTheToken(t *testing.T) {
	srv := newScriptServer(t, nil, func(apiCall) reply { return okReply("[]") })
	api := newTestAPI(t, srv, 5*time.Second)
	srv.srv.Close() // polls now fail with errors naming the URL

	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sleeps := 0
	p := NewPoller(api, sinkFunc(func(context.Context, []Update) {}),
		WithPollLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithPollSleep(func(ctx context.Context, d time.Duration) error {
			if sleeps++; sleeps == 3 {
				cancel()
			}
			return ctx.Err()
		}))
	if err := p.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.Contains(logs.String(), "getUpdates failed") {
		t.Fatalf("failures not logged:\n%s", logs.String())
	}
	assertNoToken(t, "log", logs.String())
}

// unclaimedOnce is a sink whose first batch leaves update 4 unhandled, as
// when its claim could not be written.
type unclaimedOnce struct {
	batches [][]int
	api     *fakeUpdates
	cancel  func()
}

func (s *unclaimedOnce) HandleBatch(_ context.Context, ups []Update) int {
	s.batches = append(s.batches, ids(ups))
	if len(s.batches) == 1 {
		return 4
	}
	s.api.mu.Lock()
	s.api.onEmpty = s.cancel
	s.api.mu.Unlock()
	return 0
}

func TestPollerStaysBeforeAnUpdateWhoseClaimFailed(t *testing.T) {
	api := &fakeUpdates{pending: []int{3, 4, 5}}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sink := &unclaimedOnce{api: api, cancel: cancel}
	clock := newFakeClock()
	p := NewPoller(api, sink, WithPollSleep(clock.Sleep))
	if err := p.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff([][]int{{3, 4, 5}, {4, 5}}, sink.batches); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"", "4", "6"}, api.offsets()); diff != "" {
		t.Errorf("offsets (-want +got): the poller must confirm 3 only, then fetch 4 again\n%s", diff)
	}
}

// pollCounts records PollMetrics observations.
type pollCounts struct {
	mu  sync.Mutex
	got map[string]int
}

func (c *pollCounts) GetUpdates(result string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.got == nil {
		c.got = map[string]int{}
	}
	c.got[result]++
}

func TestPollerCountsEveryGetUpdatesByResult(t *testing.T) {
	api := &fakeUpdates{errs: []error{
		tgErr(409, "Conflict: terminated by other getUpdates request", 0),
		tgErr(429, "Too Many Requests: retry after 1", 1),
		tgErr(502, "Bad Gateway", 0),
		tgErr(409, "Conflict: terminated by other getUpdates request", 0),
	}, pending: []int{7}}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	api.onEmpty = cancel
	m := &pollCounts{}
	p := NewPoller(api, sinkFunc(func(context.Context, []Update) {}),
		WithPollSleep(newFakeClock().Sleep), WithPollMetrics(m))
	if err := p.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The last poll, which found nothing and ended the test, is cut off by
	// the cancellation and not counted.
	want := map[string]int{"conflict": 2, "flood": 1, "error": 1, "ok": 1}
	if diff := cmp.Diff(want, m.got); diff != "" {
		t.Errorf("getUpdates by result (-want +got):\n%s", diff)
	}

	rejected := &pollCounts{}
	p = NewPoller(&fakeUpdates{errs: []error{tgErr(401, "Unauthorized", 0)}}, sinkFunc(func(context.Context, []Update) {}),
		WithPollMetrics(rejected))
	if err := p.Run(t.Context()); !errors.Is(err, ErrTokenRejected) {
		t.Fatalf("Run = %v, want ErrTokenRejected", err)
	}
	if diff := cmp.Diff(map[string]int{"rejected": 1}, rejected.got); diff != "" {
		t.Errorf("getUpdates by result (-want +got):\n%s", diff)
	}
}
