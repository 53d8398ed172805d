package app

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/storage/redistest"
)

// redisErrors counts what the hook reports.
type redisErrors struct{ n atomic.Int64 }

func (c *redisErrors) RedisError() { c.n.Add(1) }

// committeebot_redis_errors_total counts Redis failing, not callers whose
// own time ran out: a handler past its deadline makes go-redis answer
// context.DeadlineExceeded, which storage.IsUnavailable also reads as
// "unavailable" (the user is told "not recorded, safe to repeat").
func TestRedisErrorsCountRedisNotTheCallersDeadline(t *testing.T) {
	t.Parallel()
	rd := redistest.New(t, redistest.WithOwnServer())
	count := &redisErrors{}
	c := redis.NewClient(&redis.Options{Addr: rd.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	c.AddHook(redisErrorHook{m: count})

	spent, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if err := c.Ping(spent).Err(); err == nil {
		t.Fatal("PING on a spent context succeeded")
	}
	if _, err := c.Pipelined(spent, func(p redis.Pipeliner) error { p.Ping(spent); return nil }); err == nil {
		t.Fatal("a pipeline on a spent context succeeded")
	}
	if got := count.n.Load(); got != 0 {
		t.Errorf("%d Redis errors counted for calls whose context had ended, want 0", got)
	}

	rd.Stop()
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING to a stopped Redis succeeded")
	}
	if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error { p.Ping(ctx); return nil }); err == nil {
		t.Fatal("a pipeline to a stopped Redis succeeded")
	}
	if got := count.n.Load(); got < 2 {
		t.Errorf("%d Redis errors counted for two calls to a stopped Redis, want at least 2", got)
	}
}
