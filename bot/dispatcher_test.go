package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestDispatcherKeepsOrderWithinAChat(t *testing.T) {
	var mu sync.Mutex
	seen := map[int64][]int{}
	h := func(_ context.Context, r *Request) error {
		chat, _ := r.Chat()
		mu.Lock()
		seen[chat.ID] = append(seen[chat.ID], r.UpdateID())
		mu.Unlock()
		return nil
	}
	d := NewDispatcher(h, "me", 4, time.Minute, discard)
	defer d.Stop()

	var batch []Update
	for i := 0; i < 300; i++ {
		u := message(int64(i%7)-3, "private", fmt.Sprint(i))
		u.UpdateID = i
		batch = append(batch, Update{Update: u})
	}
	d.HandleBatch(context.Background(), batch)

	total := 0
	for chat, ids := range seen {
		total += len(ids)
		for i := 1; i < len(ids); i++ {
			if ids[i] < ids[i-1] {
				t.Fatalf("chat %d handled out of order: %v", chat, ids)
			}
		}
	}
	if total != 300 {
		t.Errorf("handled %d updates, want 300", total)
	}
}

func TestDispatcherStopWaitsForRunningHandlers(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	var finished atomic.Int32
	h := func(ctx context.Context, _ *Request) error {
		close(started)
		<-release
		finished.Add(1)
		return ctx.Err()
	}
	d := NewDispatcher(h, "me", 2, time.Minute, discard)
	errc := make(chan error, 1)
	go func() { errc <- d.Handle(context.Background(), Update{Update: message(1, "private", "x")}) }()
	<-started
	stopped := make(chan struct{})
	go func() { d.Stop(); close(stopped) }()
	close(release)
	<-stopped
	if err := <-errc; err != nil {
		t.Errorf("in-flight handler saw %v; shutdown must not cancel it", err)
	}
	if finished.Load() != 1 {
		t.Errorf("finished = %d, want 1", finished.Load())
	}
	if err := d.Handle(context.Background(), Update{Update: message(1, "private", "late")}); !errors.Is(err, ErrStopped) {
		t.Errorf("Handle after Stop = %v, want ErrStopped", err)
	}
}
