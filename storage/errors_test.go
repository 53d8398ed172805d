package storage_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

func TestIsUnavailable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not found", storage.ErrNotFound, false},
		{"wrapped not found", fmt.Errorf("get: %w", storage.ErrNotFound), false},
		{"conflict", storage.ErrConflict, false},
		{"redis nil", redis.Nil, false},
		{"no script", redis.ErrNoScript, false},
		{"other", errors.New("boom"), false},
		{"canceled", context.Canceled, false},
		{"unavailable", fmt.Errorf("x: %w", storage.ErrUnavailable), true},
		{"closed client", fmt.Errorf("x: %w", redis.ErrClosed), true},
		{"pool timeout", fmt.Errorf("x: %w", redis.ErrPoolTimeout), true},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"reset", fmt.Errorf("x: %w", syscall.ECONNRESET), true},
		{"loading", errors.New("LOADING Redis is loading the dataset in memory"), true},
		{"sentinels", fmt.Errorf("x: %w", errors.New("redis: all sentinels specified in configuration are unreachable")), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := storage.IsUnavailable(tt.err); got != tt.want {
				t.Errorf("IsUnavailable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// IsUnavailableFor blames Redis only while the caller's context is live.
func TestIsUnavailableForALiveCaller(t *testing.T) {
	t.Parallel()
	live := context.Background()
	spent, cancel := context.WithDeadline(live, time.Now().Add(-time.Second))
	defer cancel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tt := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"refused, caller live", live, refused, true},
		{"deadline, caller live (a deadline of its own)", live, fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"deadline, caller's deadline passed", spent, fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{"refused, caller's deadline passed", spent, refused, false},
		{"not found, caller live", live, storage.ErrNotFound, false},
	} {
		if got := storage.IsUnavailableFor(tt.ctx, tt.err); got != tt.want {
			t.Errorf("%s: IsUnavailableFor = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The bot's promise "not recorded, safe to repeat" rests on this: a real
// outage is recognised, and the client recovers by itself.
func TestIsUnavailableWhenRedisStopsAndRecovers(t *testing.T) {
	t.Parallel()
	rt := redistest.New(t, redistest.WithOwnServer())
	c := newClient(t, storage.Options{URL: rt.URL()})
	users := storage.NewUsers(c, storage.NewKeys(rt.Prefix()))
	ctx := context.Background()

	_, err := users.Language(ctx, 1)
	if !errors.Is(err, storage.ErrNotFound) || storage.IsUnavailable(err) {
		t.Fatalf("Language before the outage: %v; want ErrNotFound, not unavailable", err)
	}

	rt.Stop()
	err = users.SetLanguage(ctx, 1, "en")
	if !storage.IsUnavailable(err) {
		t.Errorf("SetLanguage with Redis stopped: IsUnavailable(%v) = false, want true", err)
	}
	if err := storage.Ping(ctx, c); !storage.IsUnavailable(err) {
		t.Errorf("Ping with Redis stopped: IsUnavailable(%v) = false, want true", err)
	}

	rt.Restart()
	if err := users.SetLanguage(ctx, 1, "en"); err != nil {
		t.Fatalf("SetLanguage after restart: %v", err)
	}
	if got, err := users.Language(ctx, 1); err != nil || got != "en" {
		t.Errorf("Language after restart = %q, %v; want en", got, err)
	}
}

// A Redis at its maxmemory with noeviction, or a primary without the
// replicas min-replicas-to-write asks for, refuses every write before
// running it: the user hears "not recorded, safe to repeat", not an
// apology for a bug.
func TestFullOrCutOffRedisRefusalsAreUnavailable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, key, value string }{
		{"full", "maxmemory", "1"},
		{"no replicas", "min-replicas-to-write", "1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rt := redistest.New(t, redistest.WithArgs("--maxmemory-policy", "noeviction"))
			ctx := context.Background()
			if err := rt.Client().ConfigSet(ctx, tt.key, tt.value).Err(); err != nil {
				t.Fatal(err)
			}
			keys := storage.NewKeys(rt.Prefix())
			err := storage.NewUsers(rt.Client(), keys).SetLanguage(ctx, 1, "en")
			if !storage.IsUnavailable(err) {
				t.Errorf("a command: IsUnavailable(%v) = false, want true", err)
			}
			_, err = storage.NewUpdates(rt.Client(), keys, time.Hour).Begin(ctx, 1, "a", time.Minute)
			if !storage.IsUnavailable(err) {
				t.Errorf("a script: IsUnavailable(%v) = false, want true", err)
			}
		})
	}
}

func TestIsUnavailableAfterClose(t *testing.T) {
	rt := redistest.New(t)
	c, err := storage.NewClient(storage.Options{URL: rt.URL()})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	c.Close()
	_, err = storage.NewUsers(c, storage.NewKeys(rt.Prefix())).Language(context.Background(), 1)
	if !storage.IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false on a closed client, want true", err)
	}
}
