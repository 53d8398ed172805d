package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated means a write reached the primary but not as many
// replicas as redis.wait_replicas asks within the wait: it may be lost if
// the primary fails now, so the user is not told it is recorded (it counts
// as Redis being unavailable: "not recorded, safe to repeat" — every write
// of the bot is idempotent).
var ErrNotReplicated = fmt.Errorf("%w: write not acknowledged by enough replicas", ErrUnavailable)

// DefaultWaitTimeout bounds how long a write waits for its replicas.
const DefaultWaitTimeout = time.Second

// writeCommands are the commands of the bot that change data (scripts
// included: every script it runs may write).
var writeCommands = map[string]bool{
	"eval": true, "evalsha": true, "set": true, "setnx": true, "setex": true, "psetex": true, "getdel": true,
	"del": true, "unlink": true, "expire": true, "pexpire": true, "persist": true, "rename": true,
	"incr": true, "incrby": true, "decr": true, "decrby": true, "mset": true,
	"hset": true, "hsetnx": true, "hmset": true, "hdel": true, "hincrby": true,
	"sadd": true, "srem": true, "zadd": true, "zrem": true, "zincrby": true, "zremrangebyscore": true,
	"rpush": true, "lpush": true, "lpop": true, "rpop": true, "lrem": true, "ltrim": true,
}

// waitHook makes every write wait until n replicas hold it (WAIT n, on the
// connection of the write: the write and the WAIT go out as one pipeline).
type waitHook struct {
	client  *redis.Client
	n       int
	timeout time.Duration
}

type waitAddedKey struct{}

func isWrite(cmd redis.Cmder) bool { return writeCommands[strings.ToLower(cmd.Name())] }

func (h *waitHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *waitHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !isWrite(cmd) || ctx.Value(waitAddedKey{}) != nil {
			return next(ctx, cmd)
		}
		// One pipeline holds one connection: the WAIT covers this write.
		wait := redis.NewIntCmd(ctx, "wait", h.n, h.timeout.Milliseconds())
		_, err := h.client.Pipelined(context.WithValue(ctx, waitAddedKey{}, true), func(p redis.Pipeliner) error {
			_ = p.Process(ctx, cmd)
			_ = p.Process(ctx, wait)
			return nil
		})
		if cmd.Err() != nil {
			return cmd.Err()
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		return h.check(wait)
	}
}

func (h *waitHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		writes := false
		for _, c := range cmds {
			writes = writes || isWrite(c)
		}
		if !writes || ctx.Value(waitAddedKey{}) != nil {
			return next(ctx, cmds)
		}
		wait := redis.NewIntCmd(ctx, "wait", h.n, h.timeout.Milliseconds())
		err := next(ctx, append(cmds, wait))
		if err != nil && err != wait.Err() {
			return err
		}
		return h.check(wait)
	}
}

func (h *waitHook) check(wait *redis.IntCmd) error {
	got, err := wait.Result()
	if err != nil {
		return fmt.Errorf("wait for %d replicas: %w", h.n, err)
	}
	if int(got) < h.n {
		return fmt.Errorf("%d of %d replicas within %v: %w", got, h.n, h.timeout, ErrNotReplicated)
	}
	return nil
}

// waitReplicas installs the hook on a single-node or Sentinel client; a
// cluster spreads one pipeline over several nodes, so Validate refuses it.
func waitReplicas(c redis.UniversalClient, n int, timeout time.Duration) error {
	cl, ok := c.(*redis.Client)
	if !ok {
		return errors.New("redis: wait_replicas needs a single node or Sentinel, not a cluster")
	}
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	cl.AddHook(&waitHook{client: cl, n: n, timeout: timeout})
	return nil
}

var _ redis.Hook = (*waitHook)(nil)
