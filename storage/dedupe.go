package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultUpdateTTL is how long Updates remembers a handled update when
// NewUpdates is given no TTL. Telegram keeps an undelivered update for 24
// hours, so twice that covers every redelivery.
const DefaultUpdateTTL = 48 * time.Hour

// ClaimState says what Updates.Begin found.
type ClaimState int

// The states of a claim. Only ClaimNew and ClaimTakeover let the caller run
// the handler (see Claim.Proceed).
const (
	// ClaimNew: the update was never seen; the caller now owns it.
	ClaimNew ClaimState = iota + 1
	// ClaimTakeover: a previous owner's lease expired before it finished
	// (it crashed, hung or released the claim); the caller now owns the
	// update. Claim.Attempt counts the owners so far, so the caller can give
	// up on an update that keeps failing.
	ClaimTakeover
	// ClaimBusy: another owner holds an unexpired lease. Do not run the
	// handler. Claim.LeaseUntil says when to call Begin again should the
	// update be delivered once more (or should the caller keep it).
	ClaimBusy
	// ClaimDone: the update was handled already. Do not run the handler.
	ClaimDone
)

// String returns the lower-case name of s, for logs and metrics labels.
func (s ClaimState) String() string {
	switch s {
	case ClaimNew:
		return "new"
	case ClaimTakeover:
		return "takeover"
	case ClaimBusy:
		return "busy"
	case ClaimDone:
		return "done"
	default:
		return fmt.Sprintf("ClaimState(%d)", int(s))
	}
}

// Claim is the result of Updates.Begin.
type Claim struct {
	// State is what Begin found.
	State ClaimState
	// Owner is the current owner: the caller for ClaimNew and
	// ClaimTakeover, another owner for ClaimBusy, and the owner that
	// finished the update for ClaimDone.
	Owner string
	// LeaseUntil is when the current owner's lease expires; zero for
	// ClaimDone.
	LeaseUntil time.Time
	// Attempt is how many owners have claimed the update, counting the
	// current one (1 for ClaimNew).
	Attempt int
}

// Proceed reports whether the caller owns the update and should run its
// handler.
func (c Claim) Proceed() bool { return c.State == ClaimNew || c.State == ClaimTakeover }

// Updates remembers which Telegram updates were handled, so that an update
// delivered again (a restart before the polling offset was confirmed, a
// webhook retry, two replicas behind one webhook) has no second effect.
//
// The protocol is a claim with a lease:
//
//	c, err := updates.Begin(ctx, id, owner, lease)
//	if !c.Proceed() { skip }            // busy elsewhere, or done already
//	run the handler
//	updates.Done(ctx, id, owner)        // or Release on a retryable failure
//
// Begin claims the update for owner until now+lease. While the lease runs,
// every other Begin answers ClaimBusy. Done marks the update done for the
// TTL; every later Begin answers ClaimDone. If the owner crashes between
// Begin and Done, the claim stays "running" until its lease expires; the
// next Begin after that (the update delivered again) takes the update over
// (ClaimTakeover) and runs it again. So an update is handled at least once
// and, as long as handlers finish within their lease, at most once. The
// lease must therefore exceed the longest handler run; a handler that
// outlives it gets ErrLeaseLost from Done, which is worth a warning.
//
// Owner must be unique per handling attempt (for example host, process id
// and a random number): Begin by the same owner is taken as a retry of the
// same call, which go-redis may make when a reply is lost, and answers what
// the first call answered.
//
// Lease expiry compares times taken from the callers' clocks, so replicas'
// clocks should agree to well within a lease.
type Updates struct {
	c   redis.UniversalClient
	k   Keys
	ttl time.Duration
	now func() time.Time
}

// NewUpdates returns the update claim store. ttl is how long a claim (done
// or not) is kept; zero or less means DefaultUpdateTTL. Accepts WithClock.
func NewUpdates(c redis.UniversalClient, k Keys, ttl time.Duration, opts ...Option) *Updates {
	if ttl <= 0 {
		ttl = DefaultUpdateTTL
	}
	s := newSettings(opts)
	return &Updates{c: c, k: k, ttl: ttl, now: s.now}
}

// beginScript claims an update.
//
// KEYS[1] -> <p>:{upd:<updateID>}
// ARGV[1] -> owner
// ARGV[2] -> now (unix ms)
// ARGV[3] -> lease expiry, now + lease (unix ms)
// ARGV[4] -> ttl of the claim (ms)
//
// Returns {state, owner, lease_until, attempt}:
// state 1: claimed by ARGV[1] (new, or a re-run by the same owner, attempt 1)
// state 2: claimed by ARGV[1] after taking over an expired lease (attempt > 1)
// state 3: busy, another owner holds an unexpired lease
// state 4: done (lease_until 0, owner = who finished it)
var beginScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'state', 'owner', 'lease_until', 'attempt', 'done_by')
local state, owner = h[1], h[2]
local attempt = tonumber(h[4]) or 0
if state == 'done' then
	return {4, h[5] or '', 0, attempt}
end
if state == 'running' then
	if owner == ARGV[1] then
		local s = 1
		if attempt > 1 then s = 2 end
		return {s, owner, tonumber(h[3]), attempt}
	end
	if tonumber(h[3]) > tonumber(ARGV[2]) then
		return {3, owner, tonumber(h[3]), attempt}
	end
end
attempt = attempt + 1
redis.call('HSET', KEYS[1], 'state', 'running', 'owner', ARGV[1], 'lease_until', ARGV[3], 'attempt', attempt)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local s = 1
if attempt > 1 then s = 2 end
return {s, ARGV[1], tonumber(ARGV[3]), attempt}
`)

// Begin tries to claim update updateID for owner for lease; see Updates for
// the protocol. Proceed on the returned Claim says whether to run the
// handler. lease must be positive (ErrInvalid otherwise).
func (u *Updates) Begin(ctx context.Context, updateID int64, owner string, lease time.Duration) (Claim, error) {
	if lease <= 0 || owner == "" {
		return Claim{}, fmt.Errorf("begin update %d: lease %v, owner %q: %w", updateID, lease, owner, ErrInvalid)
	}
	now := u.now()
	v, err := runScript(ctx, u.c, beginScript, []string{u.k.Update(updateID)},
		owner, unixMilli(now), unixMilli(now.Add(lease)), u.ttl.Milliseconds())
	if err != nil {
		return Claim{}, fmt.Errorf("begin update %d: %w", updateID, err)
	}
	c, err := decodeClaim(v)
	if err != nil {
		return Claim{}, fmt.Errorf("begin update %d: %w", updateID, err)
	}
	return c, nil
}

func decodeClaim(v any) (Claim, error) {
	r, err := asReply(v, 4)
	if err != nil {
		return Claim{}, err
	}
	state, err := r.int(0)
	if err != nil {
		return Claim{}, err
	}
	owner, err := r.str(1)
	if err != nil {
		return Claim{}, err
	}
	until, err := r.int(2)
	if err != nil {
		return Claim{}, err
	}
	attempt, err := r.int(3)
	if err != nil {
		return Claim{}, err
	}
	c := Claim{Owner: owner, LeaseUntil: fromUnixMilli(until), Attempt: int(attempt)}
	switch state {
	case 1:
		c.State = ClaimNew
	case 2:
		c.State = ClaimTakeover
	case 3:
		c.State = ClaimBusy
	case 4:
		c.State = ClaimDone
	default:
		return Claim{}, fmt.Errorf("unexpected claim state %d", state)
	}
	return c, nil
}

// doneScript marks an update done.
//
// KEYS[1] -> <p>:{upd:<updateID>}
// ARGV[1] -> owner
// ARGV[2] -> now (unix ms)
// ARGV[3] -> ttl of the claim (ms)
//
// Returns 1 if ARGV[1] finished the update holding the claim, 0 if it
// finished it after losing the claim to another owner (the update is marked
// done either way). A re-run answers what the first run answered; an update
// done by someone else already is left as it is (0).
var doneScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'state', 'owner', 'done_by', 'lost')
if h[1] == 'done' then
	if h[3] == ARGV[1] and h[4] ~= '1' then return 1 end
	return 0
end
local lost = 0
if h[1] == 'running' and h[2] ~= ARGV[1] then lost = 1 end
redis.call('HSET', KEYS[1], 'state', 'done', 'done_by', ARGV[1], 'done_at', ARGV[2], 'lost', lost, 'lease_until', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1 - lost
`)

// Done marks update updateID handled by owner; later Begin calls answer
// ClaimDone for the TTL. It is idempotent. If owner's lease had expired and
// another owner took the update over, the update is still marked done and
// Done returns ErrLeaseLost: the handler may have run twice.
func (u *Updates) Done(ctx context.Context, updateID int64, owner string) error {
	if owner == "" {
		return fmt.Errorf("finish update %d: empty owner: %w", updateID, ErrInvalid)
	}
	v, err := runScript(ctx, u.c, doneScript, []string{u.k.Update(updateID)},
		owner, unixMilli(u.now()), u.ttl.Milliseconds())
	if err != nil {
		return fmt.Errorf("finish update %d: %w", updateID, err)
	}
	if n, ok := v.(int64); !ok || n != 1 {
		return fmt.Errorf("finish update %d as %q: %w", updateID, owner, ErrLeaseLost)
	}
	return nil
}

// releaseScript gives up a claim without marking the update done.
//
// KEYS[1] -> <p>:{upd:<updateID>}
// ARGV[1] -> owner
//
// Returns 1 if ARGV[1] held the claim and released it, 0 otherwise (already
// released, taken over, done or unknown: nothing changes).
var releaseScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'state', 'owner')
if h[1] == 'running' and h[2] == ARGV[1] then
	redis.call('HSET', KEYS[1], 'owner', '', 'lease_until', 0)
	return 1
end
return 0
`)

// Release gives up owner's claim on update updateID without marking it
// done, for a handler that failed in a way worth retrying: the next Begin
// takes the update over at once (ClaimTakeover, with Attempt counting on)
// instead of waiting for the lease to expire. Releasing a claim that owner
// no longer holds is a no-op.
func (u *Updates) Release(ctx context.Context, updateID int64, owner string) error {
	if _, err := runScript(ctx, u.c, releaseScript, []string{u.k.Update(updateID)}, owner); err != nil {
		return fmt.Errorf("release update %d: %w", updateID, err)
	}
	return nil
}
