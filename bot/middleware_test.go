package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// memClaimer is an in-memory Claimer for testing the middleware's logic;
// the Redis implementation is tested in storage and end to end.
type memClaimer struct {
	mu      sync.Mutex
	claimed map[int]bool
	done    map[int]bool
	err     error
}

func (m *memClaimer) Claim(_ context.Context, id int) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return false, m.err
	}
	if m.claimed[id] {
		return false, nil
	}
	m.claimed[id] = true
	return true, nil
}

func (m *memClaimer) Done(_ context.Context, id int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.done[id] = true
	return nil
}

func TestDedupeRunsEachUpdateOnce(t *testing.T) {
	c := &memClaimer{claimed: map[int]bool{}, done: map[int]bool{}}
	runs := 0
	h := Dedupe(c, discard, nil)(func(context.Context, *Request) error { runs++; return nil })
	u := message(1, "private", "/start")
	u.UpdateID = 42
	for i := 0; i < 3; i++ {
		if err := h(context.Background(), NewRequest(u, "b")); err != nil {
			t.Fatal(err)
		}
	}
	if runs != 1 || !c.done[42] {
		t.Errorf("runs = %d, done = %v; want 1 run, marked done", runs, c.done[42])
	}
}

func TestDedupeLeavesAPanickedUpdateForRetry(t *testing.T) {
	c := &memClaimer{claimed: map[int]bool{}, done: map[int]bool{}}
	h := Chain(func(context.Context, *Request) error { panic("boom") }, Recover(discard), Dedupe(c, discard, nil))
	u := message(1, "private", "/start")
	u.UpdateID = 7
	err := h(context.Background(), NewRequest(u, "b"))
	if !errors.Is(err, ErrPanic) {
		t.Fatalf("err = %v, want ErrPanic", err)
	}
	if c.done[7] {
		t.Error("a panicked update was marked done; its claim must expire so it is retried")
	}
}

func TestDedupeLeavesAnUnclaimedUpdateForRedelivery(t *testing.T) {
	c := &memClaimer{err: errors.New("i/o timeout")}
	runs := 0
	h := Dedupe(c, discard, nil)(func(context.Context, *Request) error { runs++; return nil })
	err := h(context.Background(), NewRequest(message(1, "private", "/x"), "b"))
	if !errors.Is(err, ErrNotClaimed) || runs != 0 {
		t.Fatalf("err = %v, runs = %d; want ErrNotClaimed and no run", err, runs)
	}
}

func TestDispatcherReportsTheFirstUnclaimedUpdateOfABatch(t *testing.T) {
	var mu sync.Mutex
	failing := map[int]bool{5: true, 7: true}
	h := func(_ context.Context, r *Request) error {
		mu.Lock()
		defer mu.Unlock()
		if failing[r.UpdateID()] {
			return ErrNotClaimed
		}
		return nil
	}
	d := NewDispatcher(h, "b", 3, time.Second, discard)
	defer d.Stop()
	var batch []Update
	for id := 3; id <= 8; id++ {
		u := message(int64(id), "private", "/x")
		u.UpdateID = id
		batch = append(batch, Update{Update: u})
	}
	if got := d.HandleBatch(context.Background(), batch); got != 5 {
		t.Errorf("HandleBatch = %d, want 5 (the lowest unclaimed update)", got)
	}
	if err := d.Handle(context.Background(), batch[2]); !errors.Is(err, ErrNotClaimed) {
		t.Errorf("Handle of an unclaimed update = %v, want ErrNotClaimed (the webhook answers 500)", err)
	}
}

func TestDedupeStillHandlesWhenTheStoreIsDown(t *testing.T) {
	c := &memClaimer{err: fmt.Errorf("%w: connection refused", ErrClaimStoreDown)}
	runs := 0
	h := Dedupe(c, discard, nil)(func(context.Context, *Request) error { runs++; return nil })
	if err := h(context.Background(), NewRequest(message(1, "private", "/x"), "b")); err != nil {
		t.Fatal(err)
	}
	if runs != 1 {
		t.Errorf("runs = %d, want 1: users must hear that their action was not recorded", runs)
	}
}

type recordingRequester struct {
	mu   sync.Mutex
	sent []tgbotapi.Chattable
}

func (r *recordingRequester) Request(ctx context.Context, c tgbotapi.Chattable) (*tgbotapi.APIResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // as the HTTP client does
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, c)
	return &tgbotapi.APIResponse{Ok: true}, nil
}

func TestAutoRespondAnswersEveryButtonOnce(t *testing.T) {
	cb := tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{ID: "q1", From: &tgbotapi.User{ID: 1}, Data: "x:y"}}
	tests := []struct {
		name     string
		h        Handler
		wantText string
	}{
		{"silent handler", func(context.Context, *Request) error { return nil }, ""},
		{"handler with answer", func(_ context.Context, r *Request) error {
			r.Answer("first", false)
			r.Answer("đã ghi", true)
			return nil
		}, "đã ghi"},
		{"failing handler", func(context.Context, *Request) error { return errors.New("x") }, ""},
		{"panicking handler", func(context.Context, *Request) error { panic("x") }, ""},
		// Answered on a few seconds of its own, not on the spent context.
		{"handler out of time", func(ctx context.Context, r *Request) error {
			<-ctx.Done()
			r.Answer("quá lâu", true)
			return ctx.Err()
		}, "quá lâu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr := &recordingRequester{}
			h := Chain(tt.h, Recover(discard), AutoRespond(rr, discard))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if tt.name == "handler out of time" {
				ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			}
			defer cancel()
			_ = h(ctx, NewRequest(cb, "b"))
			if len(rr.sent) != 1 {
				t.Fatalf("%d answers, want 1", len(rr.sent))
			}
			ans := rr.sent[0].(tgbotapi.CallbackConfig)
			if ans.Text != tt.wantText || ans.CallbackQueryID != "q1" {
				t.Errorf("answer = %+v", ans)
			}
		})
	}
}
