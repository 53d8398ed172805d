package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// PollLease lets one replica at a time call getUpdates. Telegram answers
// two pollers of one bot with 409 Conflict, each terminating the other's
// long poll, so replicas in polling mode take this lease: the holder
// polls, the others stand by and try again every second or so, and take
// over when the holder releases it (a clean shutdown) or stops renewing it
// (a crash: after the lease runs out).
//
// Telegram cannot check a fencing token, so safety rests on the holder:
// it renews well before the lease ends and stops polling (cancelling the
// request in flight) as soon as a renewal fails or might come too late.
// Lease expiry compares times from the callers' clocks, so replicas'
// clocks should agree to well within a lease (NTP).
//
// The lease is one string key, <p>:{g}:poll:lease, holding
// "<until, unix ms>|<owner>" (the owner last, so that it may hold any
// character), with a Redis expiry of twice the lease so that it does not
// outlive its use.
type PollLease struct {
	c   redis.UniversalClient
	key string
	now func() time.Time
}

// NewPollLease returns the poll lease of the bot. Accepts WithClock.
func NewPollLease(c redis.UniversalClient, k Keys, opts ...Option) *PollLease {
	s := newSettings(opts)
	return &PollLease{c: c, key: k.Global("poll", "lease"), now: s.now}
}

// PollHold is what PollLease.Hold found.
type PollHold struct {
	// Held reports whether the caller holds the lease now.
	Held bool
	// Owner is the holder: the caller when Held, another replica if not.
	Owner string
	// Until is when the holder's lease ends, on the caller's clock.
	Until time.Time
}

// pollHoldScript takes or renews the poll lease.
//
// KEYS[1] -> <p>:{g}:poll:lease
// ARGV[1] -> owner
// ARGV[2] -> now (unix ms)
// ARGV[3] -> lease end, now + ttl (unix ms)
// ARGV[4] -> Redis expiry of the key (ms)
//
// Returns {1, owner, until} when the caller holds the lease now: it was
// free (never taken, released, or run out at now) or the caller's own,
// which is then renewed. Returns {0, holder, until} when another owner's
// lease runs past now. Running it twice (a retried command) renews twice:
// harmless.
var pollHoldScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then
	local sep = string.find(v, '|', 1, true)
	if sep then
		local holder = string.sub(v, sep + 1)
		local till = string.sub(v, 1, sep - 1)
		if holder ~= ARGV[1] and tonumber(till) > tonumber(ARGV[2]) then
			return {0, holder, till}
		end
	end
end
redis.call('SET', KEYS[1], ARGV[3] .. '|' .. ARGV[1], 'PX', ARGV[4])
return {1, ARGV[1], ARGV[3]}
`)

// pollReleaseScript gives the poll lease up.
//
// KEYS[1] -> <p>:{g}:poll:lease
// ARGV[1] -> owner
//
// Returns 1 if owner held the lease (it is free now), 0 otherwise (someone
// else's lease, or none): a compare-and-delete, so a replica that lost the
// lease never frees its successor's.
var pollReleaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local sep = string.find(v, '|', 1, true)
if sep and string.sub(v, sep + 1) == ARGV[1] then
	redis.call('DEL', KEYS[1])
	return 1
end
return 0
`)

// Hold takes the lease for owner until now+ttl, or renews it if owner
// holds it already. When another owner's lease runs past now, it changes
// nothing and reports that owner (Held false). Owner must be unique per
// process run (host, pid and a random part), so that a restarted process
// does not mistake its predecessor's lease for its own.
func (l *PollLease) Hold(ctx context.Context, owner string, ttl time.Duration) (PollHold, error) {
	if owner == "" || ttl <= 0 {
		return PollHold{}, fmt.Errorf("hold poll lease: owner %q, ttl %v: %w", owner, ttl, ErrInvalid)
	}
	now := l.now()
	v, err := runScript(ctx, l.c, pollHoldScript, []string{l.key},
		owner, unixMilli(now), unixMilli(now.Add(ttl)), (2 * ttl).Milliseconds())
	if err != nil {
		return PollHold{}, fmt.Errorf("hold poll lease: %w", err)
	}
	r, err := asReply(v, 3)
	if err != nil {
		return PollHold{}, fmt.Errorf("hold poll lease: %w", err)
	}
	held, err1 := r.int(0)
	holder, err2 := r.str(1)
	till, err3 := r.str(2)
	ms, err4 := strconv.ParseInt(till, 10, 64)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return PollHold{}, fmt.Errorf("hold poll lease: %w", err)
	}
	return PollHold{Held: held == 1, Owner: holder, Until: fromUnixMilli(ms)}, nil
}

// Release ends owner's lease at once, so that a replica standing by takes
// over without waiting for it to run out. It reports whether owner held
// it; releasing a lease one does not hold changes nothing.
func (l *PollLease) Release(ctx context.Context, owner string) (bool, error) {
	v, err := runScript(ctx, l.c, pollReleaseScript, []string{l.key}, owner)
	if err != nil {
		return false, fmt.Errorf("release poll lease: %w", err)
	}
	n, ok := v.(int64)
	if !ok {
		return false, fmt.Errorf("release poll lease: unexpected reply %T", v)
	}
	return n == 1, nil
}
