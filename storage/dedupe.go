package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	// current one (1 for ClaimNew); zero for ClaimDone.
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
	store
	ttl time.Duration
}

// NewUpdates returns the update claim store. ttl is how long a claim (done
// or not) is kept; zero or less means DefaultUpdateTTL. Accepts WithClock.
func NewUpdates(c redis.UniversalClient, k Keys, ttl time.Duration, opts ...Option) *Updates {
	if ttl <= 0 {
		ttl = DefaultUpdateTTL
	}
	return &Updates{store: newStore(c, k, newSettings(opts)), ttl: ttl}
}

// A claim is one string key, <p>:{upd:<updateID>}:claim, so that the usual
// case costs one command each way: Begin is SET … NX GET (the update was
// never seen: claimed), Done is SET … GET (the previous value says whether
// the caller still held the claim). Only the rare cases — a lease taken
// over, a claim released, a Done that finds someone else's claim — run a
// second step. The value is one of
//
//	r|<lease until, unix ms>|<attempt>|<owner>   running
//	d|<done at, unix ms>|<lost 0|1>|<owner>      done
//
// with the owner last, so that it may hold any character.
type claimValue struct {
	done    bool
	at      int64 // lease until (running) or done at (done), unix ms
	n       int64 // attempt (running) or lost (done)
	owner   string
	present bool
}

func (v claimValue) String() string {
	kind := "r"
	if v.done {
		kind = "d"
	}
	return kind + "|" + strconv.FormatInt(v.at, 10) + "|" + strconv.FormatInt(v.n, 10) + "|" + v.owner
}

func parseClaim(s string) (claimValue, error) {
	parts := strings.SplitN(s, "|", 4)
	if len(parts) != 4 || (parts[0] != "r" && parts[0] != "d") {
		return claimValue{}, fmt.Errorf("malformed update claim %q", s)
	}
	at, err1 := strconv.ParseInt(parts[1], 10, 64)
	n, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return claimValue{}, fmt.Errorf("malformed update claim %q", s)
	}
	return claimValue{done: parts[0] == "d", at: at, n: n, owner: parts[3], present: true}, nil
}

// setGet runs SET key value [NX] PX ttl GET and returns the previous value
// (present false when there was none).
func (u *Updates) setGet(ctx context.Context, key string, v claimValue, nx bool) (claimValue, error) {
	args := redis.SetArgs{TTL: u.ttl, Get: true}
	if nx {
		args.Mode = "NX"
	}
	old, err := u.c.SetArgs(ctx, key, v.String(), args).Result()
	if errors.Is(err, redis.Nil) {
		return claimValue{}, nil
	}
	if err != nil {
		return claimValue{}, err
	}
	return parseClaim(old)
}

// swapScript replaces an update's claim only if it still holds the value
// the caller saw (compare and set), for the rare steps of the protocol.
//
// KEYS[1] -> <p>:{upd:<updateID>}:claim
// ARGV[1] -> the value the caller expects ("" for none)
// ARGV[2] -> the new value
// ARGV[3] -> ttl (ms); 0 keeps the key's TTL
//
// Returns 1 when swapped, else the current value (false for none).
var swapScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return cur end
if ARGV[3] == '0' then
	redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
else
	redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
`)

// swap runs swapScript; swapped false gives the value found instead.
func (u *Updates) swap(ctx context.Context, key string, expect, next claimValue, keepTTL bool) (bool, claimValue, error) {
	exp := ""
	if expect.present {
		exp = expect.String()
	}
	ttl := u.ttl.Milliseconds()
	if keepTTL {
		ttl = 0
	}
	v, err := runScript(ctx, u.c, swapScript, []string{key}, exp, next.String(), ttl)
	if errors.Is(err, ErrNotFound) || v == nil {
		return false, claimValue{}, nil
	}
	if err != nil {
		return false, claimValue{}, err
	}
	switch cur := v.(type) {
	case int64:
		return true, claimValue{}, nil
	case string:
		c, err := parseClaim(cur)
		return false, c, err
	}
	return false, claimValue{}, fmt.Errorf("unexpected swap reply %T", v)
}

// Begin tries to claim update updateID for owner for lease; see Updates for
// the protocol. Proceed on the returned Claim says whether to run the
// handler. lease must be positive (ErrInvalid otherwise). A new update
// costs one Redis command.
func (u *Updates) Begin(ctx context.Context, updateID int64, owner string, lease time.Duration) (Claim, error) {
	if lease <= 0 || owner == "" {
		return Claim{}, fmt.Errorf("begin update %d: lease %v, owner %q: %w", updateID, lease, owner, ErrInvalid)
	}
	key := u.k.UpdateClaim(updateID)
	now := u.now()
	until := unixMilli(now.Add(lease))
	mine := claimValue{at: until, n: 1, owner: owner, present: true}
	old, err := u.setGet(ctx, key, mine, true)
	for tries := 0; err == nil && tries < 8; tries++ {
		switch {
		case !old.present:
			if tries == 0 {
				return claimFor(mine), nil
			}
			// The claim vanished between two steps (expired): start anew.
			if old, err = u.setGet(ctx, key, mine, true); err == nil && !old.present {
				return claimFor(mine), nil
			}
			continue
		case old.done:
			return Claim{State: ClaimDone, Owner: old.owner}, nil
		case old.owner == owner:
			// A re-run of this owner's own Begin: answer what it answered.
			return claimFor(old), nil
		case old.at > unixMilli(now):
			return Claim{State: ClaimBusy, Owner: old.owner, LeaseUntil: fromUnixMilli(old.at), Attempt: int(old.n)}, nil
		}
		// The lease ran out (a crash, or a release): take the update over
		// if nobody else did in between.
		next := claimValue{at: until, n: old.n + 1, owner: owner, present: true}
		var swapped bool
		swapped, old, err = u.swap(ctx, key, old, next, false)
		if err == nil && swapped {
			return claimFor(next), nil
		}
	}
	if err == nil {
		err = errors.New("claim keeps changing")
	}
	return Claim{}, fmt.Errorf("begin update %d: %w", updateID, err)
}

func claimFor(v claimValue) Claim {
	c := Claim{State: ClaimNew, Owner: v.owner, LeaseUntil: fromUnixMilli(v.at), Attempt: int(v.n)}
	if v.n > 1 {
		c.State = ClaimTakeover
	}
	return c
}

// Done marks update updateID handled by owner; later Begin calls answer
// ClaimDone for the TTL. It is idempotent. If owner's lease had expired and
// another owner took the update over, the update is still marked done and
// Done returns ErrLeaseLost: the handler may have run twice. The usual case
// (owner still holds the claim) costs one Redis command.
func (u *Updates) Done(ctx context.Context, updateID int64, owner string) error {
	if owner == "" {
		return fmt.Errorf("finish update %d: empty owner: %w", updateID, ErrInvalid)
	}
	key := u.k.UpdateClaim(updateID)
	mine := claimValue{done: true, at: unixMilli(u.now()), owner: owner, present: true}
	old, err := u.setGet(ctx, key, mine, false)
	if err != nil {
		return fmt.Errorf("finish update %d: %w", updateID, err)
	}
	switch {
	case !old.present, !old.done && old.owner == owner:
		return nil
	case !old.done:
		// Another owner had taken the update over: it stays done, marked
		// as finished after losing the lease.
		mine.n = 1
		if err := u.c.Set(ctx, key, mine.String(), u.ttl).Err(); err != nil {
			return fmt.Errorf("finish update %d: %w", updateID, err)
		}
	default:
		// Done already: put back what was there (a re-run answers what the
		// first run answered; someone else's finish stays theirs).
		if _, _, err := u.swap(ctx, key, mine, old, true); err != nil {
			return fmt.Errorf("finish update %d: %w", updateID, err)
		}
		if old.owner == owner && old.n == 0 {
			return nil
		}
	}
	return fmt.Errorf("finish update %d as %q: %w", updateID, owner, ErrLeaseLost)
}

// Release gives up owner's claim on update updateID without marking it
// done, for a handler that failed in a way worth retrying: the next Begin
// takes the update over at once (ClaimTakeover, with Attempt counting on)
// instead of waiting for the lease to expire. Releasing a claim that owner
// no longer holds is a no-op.
func (u *Updates) Release(ctx context.Context, updateID int64, owner string) error {
	key := u.k.UpdateClaim(updateID)
	cur, err := u.c.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release update %d: %w", updateID, err)
	}
	old, err := parseClaim(cur)
	if err != nil {
		return fmt.Errorf("release update %d: %w", updateID, err)
	}
	if old.done || old.owner != owner {
		return nil
	}
	released := claimValue{at: 0, n: old.n, owner: "", present: true}
	if _, _, err := u.swap(ctx, key, old, released, true); err != nil {
		return fmt.Errorf("release update %d: %w", updateID, err)
	}
	return nil
}
