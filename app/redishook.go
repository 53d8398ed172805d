package app

import (
	"context"
	"net"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/storage"
)

// redisErrorCounter is what the hook reports to.
type redisErrorCounter interface{ RedisError() }

// redisErrorHook counts Redis commands that failed because Redis could not
// be reached, for the committeebot_redis_errors_total metric. Logic errors
// (a key not found, a script refusing a write) are not counted, nor are
// commands whose caller's context ended (a handler out of time).
type redisErrorHook struct{ m redisErrorCounter }

func (h redisErrorHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			h.m.RedisError()
		}
		return c, err
	}
}

func (h redisErrorHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err != nil && storage.IsUnavailableFor(ctx, err) {
			h.m.RedisError()
		}
		return err
	}
}

func (h redisErrorHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if err != nil && storage.IsUnavailableFor(ctx, err) {
			h.m.RedisError()
		}
		return err
	}
}
