package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// MaxClaimBatch bounds how many jobs one Claim takes, so the script's work
// (and the time Redis is blocked by it) stays small.
const MaxClaimBatch = 1000

// claimScript claims due jobs.
//
// KEYS[1] -> <p>:{sched}:due
// KEYS[2] -> <p>:{sched}:fence
// ARGV[1] -> now (unix ms)
// ARGV[2] -> lease expiry, now + lease (unix ms)
// ARGV[3] -> at most this many jobs
// ARGV[4] -> job key prefix <p>:{sched}:job: (the ids come from the due
//
//	set, so the script builds their keys; they share KEYS' hash tag)
//
// ARGV[5] -> owner (for operators reading Redis)
//
// Returns an array of {id, kind, payload, due, token, attempt, failures,
// redelivered (1 if the previous claim's lease ran out)}. A claimed job's
// score becomes its lease expiry: if nobody acknowledges it by then it is
// due again and the next claim takes it over. Work is O(log N + batch).
var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
	local key = ARGV[4] .. id
	local h = redis.call('HMGET', key, 'kind', 'payload', 'due', 'state', 'attempt', 'failures')
	if not h[1] or h[4] == 'done' then
		redis.call('ZREM', KEYS[1], id)
	else
		local token = redis.call('INCR', KEYS[2])
		local attempt = (tonumber(h[5]) or 0) + 1
		local redelivered = 0
		if h[4] == 'claimed' then redelivered = 1 end
		redis.call('HSET', key, 'state', 'claimed', 'token', token, 'attempt', attempt,
			'owner', ARGV[5], 'claimed_at', ARGV[1])
		redis.call('ZADD', KEYS[1], ARGV[2], id)
		out[#out + 1] = {id, h[1], h[2], h[3], token, attempt, tonumber(h[6]) or 0, redelivered}
	end
end
return out
`)

// Claim takes up to max due jobs for owner until now+lease, on the
// scheduler's clock. Each claim gets a new fencing token. Jobs whose
// previous lease expired are claimed again with Redelivered set.
func (s *Scheduler) Claim(ctx context.Context, owner string, max int, lease time.Duration) ([]ClaimedJob, error) {
	if max <= 0 || lease <= 0 {
		return nil, fmt.Errorf("claim jobs: max %d, lease %v: %w", max, lease, ErrInvalid)
	}
	max = min(max, MaxClaimBatch)
	now := s.now()
	until := now.Add(lease)
	v, err := runScript(ctx, s.c, claimScript, []string{s.k.SchedulerDue(), s.k.SchedulerFence()},
		unixMilli(now), unixMilli(until), max, s.k.SchedulerJobPrefix(), owner)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	rows, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("claim jobs: unexpected reply %T", v)
	}
	out := make([]ClaimedJob, 0, len(rows))
	for _, row := range rows {
		j, err := decodeClaimedJob(row)
		if err != nil {
			return out, fmt.Errorf("claim jobs: %w", err)
		}
		j.ClaimedAt = fromUnixMilli(unixMilli(now))
		j.LeaseUntil = fromUnixMilli(unixMilli(until))
		out = append(out, j)
	}
	return out, nil
}

func decodeClaimedJob(row any) (ClaimedJob, error) {
	r, err := asReply(row, 8)
	if err != nil {
		return ClaimedJob{}, err
	}
	var j ClaimedJob
	var errs [8]error
	var payload string
	var due, attempt, failures, redelivered int64
	j.ID, errs[0] = r.str(0)
	j.Kind, errs[1] = r.str(1)
	payload, errs[2] = r.str(2)
	due, errs[3] = r.int(3)
	j.Token, errs[4] = r.int(4)
	attempt, errs[5] = r.int(5)
	failures, errs[6] = r.int(6)
	redelivered, errs[7] = r.int(7)
	for _, e := range errs {
		if e != nil {
			return ClaimedJob{}, e
		}
	}
	j.Payload = []byte(payload)
	j.DueAt = fromUnixMilli(due)
	j.Attempt, j.Failures, j.Redelivered = int(attempt), int(failures), redelivered == 1
	return j, nil
}

// ackScript finishes a job.
//
// KEYS[1] -> <p>:{sched}:due
// KEYS[2] -> <p>:{sched}:job:<id>
// KEYS[3] -> <p>:{sched}:job:<id>:dlv
// ARGV[1] -> id
// ARGV[2] -> token
// ARGV[3] -> done TTL (ms)
//
// Returns 1 if ARGV[2] is the current token (the job is now done; a retry
// of the same call answers 1 again), 0 otherwise (the job was claimed
// again, changed or cancelled: nothing changes).
var ackScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[2], 'state', 'token')
if h[2] ~= ARGV[2] then return 0 end
if h[1] == 'done' then return 1 end
if h[1] ~= 'claimed' then return 0 end
redis.call('HSET', KEYS[2], 'state', 'done')
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('PEXPIRE', KEYS[3], ARGV[3]) end
return 1
`)

// Ack marks a claimed job done. Only the holder of the current token may:
// anyone else gets ErrNotHolder, meaning the job was taken over after the
// lease expired, changed, or cancelled while it ran.
func (s *Scheduler) Ack(ctx context.Context, id string, token int64) error {
	return s.runHeld(ctx, "ack", ackScript, id, token, []string{s.k.SchedulerDeliveries(id)}, s.doneTTL.Milliseconds())
}

// runHeld runs a script of a job's holder (op names it in errors): one
// whose KEYS are the due set, the job and then extraKeys, whose
// ARGV are id, token and then args, and which answers 1 when token holds
// the job. ErrJobID for a malformed id, ErrNotHolder for any other answer.
func (s *Scheduler) runHeld(ctx context.Context, op string, script *redis.Script, id string, token int64, extraKeys []string, args ...any) error {
	if !ValidJobID(id) {
		return fmt.Errorf("%s job %q: %w", op, id, ErrJobID)
	}
	keys := append([]string{s.k.SchedulerDue(), s.k.SchedulerJob(id)}, extraKeys...)
	v, err := runScript(ctx, s.c, script, keys, append([]any{id, token}, args...)...)
	if err != nil {
		return fmt.Errorf("%s job %s: %w", op, id, err)
	}
	if n, _ := v.(int64); n != 1 {
		return fmt.Errorf("%s job %s with token %d: %w", op, id, token, ErrNotHolder)
	}
	return nil
}

// retryScript gives a claimed job back to run again later.
//
// KEYS[1] -> <p>:{sched}:due
// KEYS[2] -> <p>:{sched}:job:<id>
// ARGV[1] -> id
// ARGV[2] -> token
// ARGV[3] -> when to run again (unix ms)
// ARGV[4] -> 1 if the run failed (counted in failures), 0 if deferred
//
// Returns 1 if ARGV[2] held the job, 0 otherwise. A retried call may count
// a failure twice; failures only bound retries, so that is harmless.
var retryScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[2], 'state', 'token')
if h[2] ~= ARGV[2] or h[1] ~= 'claimed' then
	if h[2] == ARGV[2] and h[1] == 'ready' then return 1 end
	return 0
end
redis.call('HSET', KEYS[2], 'state', 'ready')
if ARGV[4] == '1' then redis.call('HINCRBY', KEYS[2], 'failures', 1) end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
`)

// Retry gives a claimed job back to be claimed again at at, by any
// runner; failed counts the run as a failure. It keeps the delivery log,
// so a retried fan-out skips what was sent. ErrNotHolder if token is not
// the current one.
func (s *Scheduler) Retry(ctx context.Context, id string, token int64, at time.Time, failed bool) error {
	f := 0
	if failed {
		f = 1
	}
	return s.runHeld(ctx, "retry", retryScript, id, token, nil, unixMilli(at), f)
}

// extendScript extends a claim.
//
// KEYS[1] -> <p>:{sched}:due
// KEYS[2] -> <p>:{sched}:job:<id>
// ARGV[1] -> id
// ARGV[2] -> token
// ARGV[3] -> new lease expiry (unix ms)
//
// Returns 1 if ARGV[2] holds the claim, 0 otherwise.
var extendScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[2], 'state', 'token')
if h[2] ~= ARGV[2] or h[1] ~= 'claimed' then return 0 end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1
`)

// Extend renews a claim for lease from now, for a job that runs long.
// ErrNotHolder if token is not the current one.
func (s *Scheduler) Extend(ctx context.Context, id string, token int64, lease time.Duration) error {
	return s.runHeld(ctx, "extend", extendScript, id, token, nil, unixMilli(s.now().Add(lease)))
}

// reserveScript reserves one delivery of a job (one message to one chat)
// before it is attempted.
//
// KEYS[1] -> <p>:{sched}:due
// KEYS[2] -> <p>:{sched}:job:<id>
// KEYS[3] -> <p>:{sched}:job:<id>:dlv
// ARGV[1] -> id
// ARGV[2] -> token
// ARGV[3] -> delivery key
// ARGV[4] -> new lease expiry (unix ms): reserving is also a heartbeat
//
// Returns 1 new, 2 uncertain (reserved by an earlier claim that never
// recorded the outcome), 3 done already, 0 ARGV[2] is not the current
// token. A retry of the same call answers what the first answered (a
// reservation by the same token counts as new).
var reserveScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[2], 'state', 'token')
if h[2] ~= ARGV[2] or h[1] ~= 'claimed' then return 0 end
redis.call('ZADD', KEYS[1], 'XX', ARGV[4], ARGV[1])
local cur = redis.call('HGET', KEYS[3], ARGV[3])
local mine = 'p:' .. ARGV[2]
if cur == mine then return 1 end
if cur and string.sub(cur, 1, 2) ~= 'p:' then return 3 end
redis.call('HSET', KEYS[3], ARGV[3], mine)
if cur then return 2 end
return 1
`)

// Reserve records that the holder of token is about to make delivery key
// of job id (a message to one chat), and extends its lease by lease. See
// DeliveryState for the answers; ErrNotHolder if token is no longer
// current: the caller must stop delivering.
func (s *Scheduler) Reserve(ctx context.Context, id string, token int64, key string, lease time.Duration) (DeliveryState, error) {
	if !ValidJobID(id) {
		return 0, fmt.Errorf("reserve delivery of job %q: %w", id, ErrJobID)
	}
	v, err := runScript(ctx, s.c, reserveScript,
		[]string{s.k.SchedulerDue(), s.k.SchedulerJob(id), s.k.SchedulerDeliveries(id)},
		id, token, key, unixMilli(s.now().Add(lease)))
	if err != nil {
		return 0, fmt.Errorf("reserve delivery %s of job %s: %w", key, id, err)
	}
	switch n, _ := v.(int64); n {
	case 1:
		return DeliveryNew, nil
	case 2:
		return DeliveryUncertain, nil
	case 3:
		return DeliveryDone, nil
	}
	return 0, fmt.Errorf("reserve delivery %s of job %s with token %d: %w", key, id, token, ErrNotHolder)
}

// commitScript records the outcome of a delivery.
//
// KEYS[1] -> <p>:{sched}:job:<id>
// KEYS[2] -> <p>:{sched}:job:<id>:dlv
// ARGV[1] -> delivery key
// ARGV[2] -> "d:<ref>" delivered or "f:<reason>" undeliverable
//
// Returns 1 if recorded, 0 if the job no longer exists. The outcome is a
// fact, so it is recorded whoever holds the job now: a runner that lost
// its lease while a message was in flight still tells the new holder not
// to send it again.
var commitScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`)

// Commit records that delivery key of job id was made (ref, e.g. the
// Telegram message id) or, with failed set, that it cannot be made (ref
// is the reason); either way later runs skip it.
func (s *Scheduler) Commit(ctx context.Context, id, key, ref string, failed bool) error {
	if !ValidJobID(id) {
		return fmt.Errorf("commit delivery of job %q: %w", id, ErrJobID)
	}
	val := "d:" + ref
	if failed {
		val = "f:" + ref
	}
	if _, err := runScript(ctx, s.c, commitScript,
		[]string{s.k.SchedulerJob(id), s.k.SchedulerDeliveries(id)}, key, val); err != nil {
		return fmt.Errorf("commit delivery %s of job %s: %w", key, id, err)
	}
	return nil
}

// Delivery is one entry of a job's delivery log.
type Delivery struct {
	State DeliveryState // DeliveryDone (delivered or failed) or DeliveryUncertain (reserved)
	// Ref is the reference recorded with a delivery, or the reason it
	// failed.
	Ref    string
	Failed bool
}

// Deliveries returns job id's delivery log by delivery key.
func (s *Scheduler) Deliveries(ctx context.Context, id string) (map[string]Delivery, error) {
	if !ValidJobID(id) {
		return nil, fmt.Errorf("deliveries of job %q: %w", id, ErrJobID)
	}
	h, err := s.c.HGetAll(ctx, s.k.SchedulerDeliveries(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("deliveries of job %s: %w", id, err)
	}
	out := make(map[string]Delivery, len(h))
	for k, v := range h {
		kind, rest, _ := strings.Cut(v, ":")
		switch kind {
		case "d":
			out[k] = Delivery{State: DeliveryDone, Ref: rest}
		case "f":
			out[k] = Delivery{State: DeliveryDone, Ref: rest, Failed: true}
		default:
			out[k] = Delivery{State: DeliveryUncertain, Ref: rest}
		}
	}
	return out, nil
}

// String names a delivery state for logs.
func (d DeliveryState) String() string {
	switch d {
	case DeliveryNew:
		return "new"
	case DeliveryUncertain:
		return "uncertain"
	case DeliveryDone:
		return "done"
	}
	return "DeliveryState(" + strconv.Itoa(int(d)) + ")"
}
