package storage

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultJobDoneTTL is how long Scheduler remembers a finished job (its
// delivery log included) when NewScheduler is given no TTL: scheduling
// the same job again in that time does not run it twice.
const DefaultJobDoneTTL = 7 * 24 * time.Hour

// Errors of the scheduler.
var (
	// ErrJobID means a job id with characters a key may not hold.
	ErrJobID = errors.New("job id must be 1–200 of A-Z a-z 0-9 . _ -")

	// ErrNotHolder means the caller's fencing token is no longer the
	// job's current one: its lease expired and another runner claimed the
	// job, or the job was changed or cancelled meanwhile. The caller must
	// stop working on it.
	ErrNotHolder = errors.New("storage: job no longer held with this token")
)

// Job is a unit of deferred work: a reminder to send, a ballot to close.
type Job struct {
	// ID names the job; scheduling a job with the ID of a pending one
	// replaces it, so callers derive IDs from what the job is about
	// (e.g. the meeting, its start and the reminder offset) and
	// scheduling stays idempotent.
	ID string
	// Kind selects the handler that runs the job.
	Kind string
	// Payload is what the handler needs, opaque to the scheduler.
	Payload []byte
	// DueAt is when the job should run.
	DueAt time.Time
}

// ClaimedJob is a job handed to one runner until its lease ends.
type ClaimedJob struct {
	Job
	// Token is the fencing token of this claim. Every claim and every
	// change of the job takes a new, larger one; only the holder of the
	// current token may acknowledge the job or reserve its deliveries.
	Token int64
	// Attempt counts the claims of the job, this one included.
	Attempt int
	// Failures counts the runs that failed before this one.
	Failures int
	// Redelivered is set when the previous claim's lease expired without
	// an acknowledgement (its runner crashed or hung).
	Redelivered bool
	// ClaimedAt is the time of the claim, on the scheduler's clock.
	ClaimedAt time.Time
	// LeaseUntil is when the claim expires unless extended.
	LeaseUntil time.Time
}

// DeliveryState is what Scheduler.Reserve found for one delivery of a job.
type DeliveryState int

// The answers of Reserve.
const (
	// DeliveryNew: never attempted; the caller may send it now.
	DeliveryNew DeliveryState = iota + 1
	// DeliveryUncertain: an earlier claim reserved it and never recorded
	// the outcome: it crashed (or lost its lease) between reserving and
	// recording, so the message may or may not have reached Telegram.
	// The caller holds the reservation now and decides by kind of message.
	DeliveryUncertain
	// DeliveryDone: sent already (or found undeliverable); skip it.
	DeliveryDone
)

// Scheduler keeps deferred jobs in Redis for any number of runners: due
// jobs are claimed atomically with a lease and a fencing token,
// acknowledged by the holder of the current token only, and claimed again
// once a lease expires without acknowledgement. Time always comes from the
// caller's clock (WithClock), never from Redis.
//
// Keys share the hash tag {sched} so that the claim script, which learns
// the job ids from the due set, stays in one Cluster slot:
//
//	<p>:{sched}:due            zset  job id -> due time, or lease expiry while claimed (unix ms)
//	<p>:{sched}:fence          string INCR counter of fencing tokens
//	<p>:{sched}:job:<id>       hash  kind, payload, due, state (ready|claimed|done), token,
//	                                 attempt, failures, owner, claimed_at
//	<p>:{sched}:job:<id>:dlv   hash  delivery key -> "p:<token>" reserved, "d:<ref>" delivered,
//	                                 "f:<reason>" undeliverable
//
// A finished job stays as state=done, with its delivery log, for the done
// TTL, so that scheduling it again is a no-op rather than a second run.
type Scheduler struct {
	store
	doneTTL time.Duration
}

// NewScheduler returns the job store. doneTTL is how long finished jobs
// are remembered (zero or less: DefaultJobDoneTTL). Accepts WithClock.
func NewScheduler(c redis.UniversalClient, k Keys, doneTTL time.Duration, opts ...Option) *Scheduler {
	if doneTTL <= 0 {
		doneTTL = DefaultJobDoneTTL
	}
	return &Scheduler{store: newStore(c, k, newSettings(opts)), doneTTL: doneTTL}
}

// Now is the scheduler's clock.
func (s *Scheduler) Now() time.Time { return s.now() }

var jobIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,200}$`)

// ValidJobID reports whether id may name a job.
func ValidJobID(id string) bool { return jobIDRE.MatchString(id) }

// SchedulerDue returns the sorted set of job ids by due time:
// <p>:{sched}:due.
func (k Keys) SchedulerDue() string { return k.prefix + ":{sched}:due" }

// SchedulerFence returns the fencing token counter: <p>:{sched}:fence.
func (k Keys) SchedulerFence() string { return k.prefix + ":{sched}:fence" }

// SchedulerJob returns the hash of one job: <p>:{sched}:job:<id>.
func (k Keys) SchedulerJob(id string) string { return k.SchedulerJobPrefix() + id }

// SchedulerJobPrefix is the part of a job key before its id.
func (k Keys) SchedulerJobPrefix() string { return k.prefix + ":{sched}:job:" }

// SchedulerDeliveries returns the delivery log of one job:
// <p>:{sched}:job:<id>:dlv.
func (k Keys) SchedulerDeliveries(id string) string { return k.SchedulerJob(id) + ":dlv" }

// scheduleScript creates or replaces a job.
//
// KEYS[1] -> <p>:{sched}:due
// KEYS[2] -> <p>:{sched}:fence
// KEYS[3] -> <p>:{sched}:job:<id>
// KEYS[4] -> <p>:{sched}:job:<id>:dlv
// ARGV[1] -> id
// ARGV[2] -> kind
// ARGV[3] -> payload
// ARGV[4] -> due (unix ms)
// ARGV[5] -> 1 to move the due time of an existing job only (keeping
//
//	kind and payload), 0 to create or replace, 2 to create only if no
//	job has the id (pending, running or finished)
//
// Returns 1 created or changed, 0 unchanged (the same job is pending,
// running or done already: a retried call), -1 no such job (ARGV[5]=1).
// A change takes a new token, so a runner holding the old version can
// neither acknowledge it nor go on delivering it.
var scheduleScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[3], 'kind', 'payload', 'due', 'state')
local kind, payload = ARGV[2], ARGV[3]
if ARGV[5] == '2' and h[1] then return 0 end
if ARGV[5] == '1' then
	if not h[1] or h[4] == 'done' then return -1 end
	kind, payload = h[1], h[2]
end
if h[1] == kind and h[2] == payload and h[3] == ARGV[4] then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('HSET', KEYS[3], 'kind', kind, 'payload', payload, 'due', ARGV[4],
	'state', 'ready', 'token', token, 'attempt', 0, 'failures', 0)
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
return 1
`)

// Schedule stores job, or replaces the job with its ID. Scheduling a job
// identical to a pending, running or recently finished one changes
// nothing (so retries and repeated calls are harmless); a job that differs
// in kind, payload or due time replaces it and will run, even if the old
// version ran already. Errors: ErrJobID, ErrInvalid for an empty kind.
func (s *Scheduler) Schedule(ctx context.Context, job Job) error {
	if _, err := s.schedule(ctx, job, 0); err != nil {
		return fmt.Errorf("schedule job %s: %w", job.ID, err)
	}
	return nil
}

// ScheduleOnce stores job unless a job with its ID exists — pending,
// running, or finished within the last 7 days — whatever its due time:
// for a job due "now" that several callers may ask for (a ballot's
// result), which must run once. Errors as Schedule.
func (s *Scheduler) ScheduleOnce(ctx context.Context, job Job) error {
	if _, err := s.schedule(ctx, job, 2); err != nil {
		return fmt.Errorf("schedule job %s once: %w", job.ID, err)
	}
	return nil
}

// Reschedule moves pending job id to dueAt, keeping its kind and payload.
// ErrNotFound if there is no such job or it has finished.
func (s *Scheduler) Reschedule(ctx context.Context, id string, dueAt time.Time) error {
	n, err := s.schedule(ctx, Job{ID: id, Kind: "-", DueAt: dueAt}, 1)
	if err == nil && n < 0 {
		err = ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("reschedule job %s: %w", id, err)
	}
	return nil
}

// schedule runs scheduleScript in mode 0 (create or replace), 1 (move
// only) or 2 (create only).
func (s *Scheduler) schedule(ctx context.Context, job Job, mode int) (int64, error) {
	if !ValidJobID(job.ID) {
		return 0, ErrJobID
	}
	if job.Kind == "" {
		return 0, fmt.Errorf("empty kind: %w", ErrInvalid)
	}
	v, err := runScript(ctx, s.c, scheduleScript,
		[]string{s.k.SchedulerDue(), s.k.SchedulerFence(), s.k.SchedulerJob(job.ID), s.k.SchedulerDeliveries(job.ID)},
		job.ID, job.Kind, string(job.Payload), unixMilli(job.DueAt), mode)
	if err != nil {
		return 0, err
	}
	n, _ := v.(int64)
	return n, nil
}

// cancelScript removes jobs that have not finished.
//
// KEYS[1]   -> <p>:{sched}:due
// KEYS[2i]  -> <p>:{sched}:job:<id i>
// KEYS[2i+1]-> <p>:{sched}:job:<id i>:dlv
// ARGV[i]   -> id i
//
// Returns how many jobs were removed. Finished jobs are left to expire, so
// their delivery logs keep protecting against a second run.
var cancelScript = redis.NewScript(`
local n = 0
for i, id in ipairs(ARGV) do
	local key = KEYS[2*i]
	local state = redis.call('HGET', key, 'state')
	if state and state ~= 'done' then
		redis.call('DEL', key, KEYS[2*i+1])
		n = n + 1
	end
	redis.call('ZREM', KEYS[1], id)
end
return n
`)

// Cancel removes the jobs with these ids unless they finished; a runner
// holding one loses it (its acknowledgement and further deliveries are
// refused). It returns how many were removed; unknown ids are ignored.
func (s *Scheduler) Cancel(ctx context.Context, ids ...string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	keys := []string{s.k.SchedulerDue()}
	args := make([]any, 0, len(ids))
	for _, id := range ids {
		if !ValidJobID(id) {
			return 0, fmt.Errorf("cancel job %q: %w", id, ErrJobID)
		}
		keys = append(keys, s.k.SchedulerJob(id), s.k.SchedulerDeliveries(id))
		args = append(args, id)
	}
	v, err := runScript(ctx, s.c, cancelScript, keys, args...)
	if err != nil {
		return 0, fmt.Errorf("cancel jobs %s: %w", strings.Join(ids, ","), err)
	}
	n, _ := v.(int64)
	return int(n), nil
}

// Get returns job id as stored, with its state: "ready", "claimed" or
// "done". ErrNotFound if there is none.
func (s *Scheduler) Get(ctx context.Context, id string) (Job, string, error) {
	if !ValidJobID(id) {
		return Job{}, "", fmt.Errorf("get job %q: %w", id, ErrNotFound)
	}
	h, err := s.c.HGetAll(ctx, s.k.SchedulerJob(id)).Result()
	if err != nil {
		return Job{}, "", fmt.Errorf("get job %s: %w", id, err)
	}
	if len(h) == 0 {
		return Job{}, "", fmt.Errorf("get job %s: %w", id, ErrNotFound)
	}
	var due int64
	_, _ = fmt.Sscan(h["due"], &due)
	return Job{ID: id, Kind: h["kind"], Payload: []byte(h["payload"]), DueAt: fromUnixMilli(due)}, h["state"], nil
}

// Pending counts the jobs waiting or running.
func (s *Scheduler) Pending(ctx context.Context) (int64, error) {
	n, err := s.c.ZCard(ctx, s.k.SchedulerDue()).Result()
	if err != nil {
		return 0, fmt.Errorf("count pending jobs: %w", err)
	}
	return n, nil
}
