package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// newScheduler returns a job store on a fresh key prefix and its clock.
func newScheduler(t testing.TB) (*storage.Scheduler, *clock) {
	t.Helper()
	rt := redistest.New(t)
	clk := newClock()
	return storage.NewScheduler(rt.Client(), storage.NewKeys(rt.Prefix()), time.Hour, storage.WithClock(clk.Now)), clk
}

// newClaimedJob returns a job store holding job r1, due now and claimed
// by owner, with its clock and the claim.
func newClaimedJob(t *testing.T, owner string) (*storage.Scheduler, *clock, storage.ClaimedJob) {
	t.Helper()
	s, clk := newScheduler(t)
	schedule(t, s, "r1", clk.Now())
	jobs := claimIDs(t, s, owner, 1)
	if len(jobs) != 1 {
		t.Fatalf("claimed %d jobs, want r1", len(jobs))
	}
	return s, clk, jobs[0]
}

func schedule(t *testing.T, s *storage.Scheduler, id string, due time.Time) {
	t.Helper()
	if err := s.Schedule(context.Background(), storage.Job{ID: id, Kind: "test", Payload: []byte("p-" + id), DueAt: due}); err != nil {
		t.Fatalf("Schedule %s: %v", id, err)
	}
}

func claimIDs(t *testing.T, s *storage.Scheduler, owner string, max int) []storage.ClaimedJob {
	t.Helper()
	jobs, err := s.Claim(context.Background(), owner, max, time.Minute)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return jobs
}

// ack acknowledges job id with token, failing the test on error.
func ack(t *testing.T, s *storage.Scheduler, id string, token int64) {
	t.Helper()
	if err := s.Ack(context.Background(), id, token); err != nil {
		t.Fatalf("Ack(%s, %d): %v", id, token, err)
	}
}

// wantNoClaim fails the test if owner can claim any job; why says why none
// should be claimable.
func wantNoClaim(t *testing.T, s *storage.Scheduler, owner, why string) {
	t.Helper()
	if got := claimIDs(t, s, owner, 10); len(got) != 0 {
		t.Errorf("%s: %s claimed %v", why, owner, ids(got))
	}
}

func ids(jobs []storage.ClaimedJob) []string {
	return idsOf(jobs, func(j storage.ClaimedJob) string { return j.ID })
}

func TestClaimTakesOnlyDueJobsInDueOrder(t *testing.T) {
	t.Parallel()
	s, clk := newScheduler(t)
	now := clk.Now()
	schedule(t, s, "late", now.Add(-time.Minute))
	schedule(t, s, "now", now)
	schedule(t, s, "soon", now.Add(time.Second))

	got := claimIDs(t, s, "a", 10)
	if diff := cmp.Diff([]string{"late", "now"}, ids(got)); diff != "" {
		t.Fatalf("claimed (-want +got):\n%s", diff)
	}
	j := got[0]
	if j.Kind != "test" || string(j.Payload) != "p-late" || !j.DueAt.Equal(now.Add(-time.Minute)) ||
		j.Attempt != 1 || j.Redelivered || j.Token == 0 || !j.LeaseUntil.Equal(now.Add(time.Minute)) {
		t.Errorf("claimed job = %+v", j)
	}
	wantNoClaim(t, s, "b", "jobs held by another runner")
	clk.Advance(time.Second)
	if got := claimIDs(t, s, "b", 10); !cmp.Equal(ids(got), []string{"soon"}) {
		t.Errorf("a second later claimed %v, want [soon]", ids(got))
	}
}

func TestScheduleTwiceIsOneJob(t *testing.T) {
	t.Parallel()
	s, clk := newScheduler(t)
	for range 3 {
		schedule(t, s, "r1", clk.Now())
	}
	if n, _ := s.Pending(context.Background()); n != 1 {
		t.Errorf("%d pending jobs, want 1", n)
	}
	if got := claimIDs(t, s, "a", 10); len(got) != 1 {
		t.Errorf("claimed %d jobs, want 1", len(got))
	}
	// Scheduling the same job while it runs does not disturb its holder.
	schedule(t, s, "r1", clk.Now())
	wantNoClaim(t, s, "b", "a running job scheduled again")
}

func TestExpiredLeaseIsClaimedAgainAndOldHolderCannotAck(t *testing.T) {
	t.Parallel()
	s, clk, first := newClaimedJob(t, "crashed")
	ctx := context.Background()

	clk.Advance(time.Minute - time.Millisecond)
	wantNoClaim(t, s, "b", "before the lease expired")
	clk.Advance(time.Millisecond)
	second := claimIDs(t, s, "b", 1)
	if len(second) != 1 {
		t.Fatal("not claimed again after the lease expired")
	}
	if !second[0].Redelivered || second[0].Attempt != 2 || second[0].Token <= first.Token {
		t.Errorf("second claim = %+v, want redelivered, attempt 2, a larger token than %d", second[0], first.Token)
	}
	if err := s.Ack(ctx, "r1", first.Token); !errors.Is(err, storage.ErrNotHolder) {
		t.Errorf("Ack with the expired token = %v, want ErrNotHolder", err)
	}
	ack(t, s, "r1", second[0].Token) // by the holder
	ack(t, s, "r1", second[0].Token) // repeated
	clk.Advance(time.Hour)
	wantNoClaim(t, s, "c", "an acknowledged job")
}

func TestDoneJobScheduledAgainRunsOnlyIfChanged(t *testing.T) {
	t.Parallel()
	s, _, j := newClaimedJob(t, "a")
	ctx := context.Background()
	due := j.DueAt
	ack(t, s, "r1", j.Token)
	schedule(t, s, "r1", due) // e.g. a retried request
	wantNoClaim(t, s, "a", "a finished job after the same Schedule")
	if _, state, err := s.Get(ctx, "r1"); err != nil || state != "done" {
		t.Errorf("Get = %q, %v; want done", state, err)
	}
	schedule(t, s, "r1", due.Add(-time.Second))
	if got := claimIDs(t, s, "a", 1); len(got) != 1 {
		t.Error("a changed job did not run")
	}
}

// ScheduleOnce stores a job only if none has its id: asked again with
// another due time, before or after it ran, it changes nothing.
func TestScheduleOnceRunsOnceWhateverTheDueTime(t *testing.T) {
	t.Parallel()
	s, clk := newScheduler(t)
	ctx := context.Background()
	once := func(due time.Time) {
		t.Helper()
		if err := s.ScheduleOnce(ctx, storage.Job{ID: "res1", Kind: "test", Payload: []byte("p"), DueAt: due}); err != nil {
			t.Fatalf("ScheduleOnce: %v", err)
		}
	}
	once(clk.Now())
	once(clk.Now().Add(time.Hour)) // a second closer: not moved
	j := claimIDs(t, s, "a", 2)
	if len(j) != 1 {
		t.Fatalf("claimed %d jobs, want the one", len(j))
	}
	ack(t, s, "res1", j[0].Token)
	clk.Advance(time.Minute)
	once(clk.Now()) // asked again after it ran
	wantNoClaim(t, s, "a", "a finished job after ScheduleOnce")
	if err := s.ScheduleOnce(ctx, storage.Job{ID: "bad id!", Kind: "test", DueAt: clk.Now()}); !errors.Is(err, storage.ErrJobID) {
		t.Errorf("ScheduleOnce with a bad id = %v", err)
	}
}

func TestRescheduleAndCancelTakeTheJobFromItsHolder(t *testing.T) {
	t.Parallel()
	s, clk := newScheduler(t)
	ctx := context.Background()
	schedule(t, s, "moved", clk.Now())
	schedule(t, s, "gone", clk.Now())
	held := claimIDs(t, s, "a", 2)

	if err := s.Reschedule(ctx, "moved", clk.Now().Add(time.Hour)); err != nil {
		t.Fatalf("Reschedule: %v", err)
	}
	if n, err := s.Cancel(ctx, "gone", "unknown"); err != nil || n != 1 {
		t.Fatalf("Cancel = %d, %v; want 1", n, err)
	}
	for _, j := range held {
		if err := s.Ack(ctx, j.ID, j.Token); !errors.Is(err, storage.ErrNotHolder) {
			t.Errorf("Ack of %s after it was changed = %v, want ErrNotHolder", j.ID, err)
		}
		if _, err := s.Reserve(ctx, j.ID, j.Token, "chat", time.Minute); !errors.Is(err, storage.ErrNotHolder) {
			t.Errorf("Reserve for %s after it was changed = %v, want ErrNotHolder", j.ID, err)
		}
	}
	clk.Advance(time.Hour)
	got := claimIDs(t, s, "b", 10)
	if diff := cmp.Diff([]string{"moved"}, ids(got)); diff != "" {
		t.Errorf("claimed an hour later (-want +got):\n%s", diff)
	}
	if string(got[0].Payload) != "p-moved" {
		t.Errorf("Reschedule changed the payload to %q", got[0].Payload)
	}
	if err := s.Reschedule(ctx, "gone", clk.Now()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Reschedule of a cancelled job = %v, want ErrNotFound", err)
	}
}

func TestRetryAndExtend(t *testing.T) {
	t.Parallel()
	s, clk, j := newClaimedJob(t, "a")
	ctx := context.Background()

	clk.Advance(50 * time.Second)
	if err := s.Extend(ctx, "r1", j.Token, time.Minute); err != nil {
		t.Fatalf("Extend: %v", err)
	}
	clk.Advance(50 * time.Second) // past the first lease, within the extended one
	wantNoClaim(t, s, "b", "an extended claim")
	for i := range 2 { // a repeated Retry changes nothing
		if err := s.Retry(ctx, "r1", j.Token, clk.Now().Add(time.Second), true); err != nil {
			t.Fatalf("Retry #%d: %v", i+1, err)
		}
	}
	clk.Advance(time.Second)
	got := claimIDs(t, s, "b", 1)
	if len(got) != 1 || got[0].Redelivered || got[0].Failures < 1 || got[0].Attempt != 2 {
		t.Fatalf("claim after Retry = %+v, want attempt 2 with a failure, not redelivered", got)
	}
	if err := s.Extend(ctx, "r1", j.Token, time.Minute); !errors.Is(err, storage.ErrNotHolder) {
		t.Errorf("Extend with an old token = %v, want ErrNotHolder", err)
	}
}

func TestDeliveryLogSurvivesATakeover(t *testing.T) {
	t.Parallel()
	s, clk, a := newClaimedJob(t, "a")
	ctx := context.Background()

	reserve := func(token int64, key string) storage.DeliveryState {
		t.Helper()
		st, err := s.Reserve(ctx, "r1", token, key, time.Minute)
		if err != nil {
			t.Fatalf("Reserve %s: %v", key, err)
		}
		return st
	}
	commit := func(key, ref string, failed bool) {
		t.Helper()
		if err := s.Commit(ctx, "r1", key, ref, failed); err != nil {
			t.Fatalf("Commit %s: %v", key, err)
		}
	}
	for _, d := range []struct {
		key, ref string
		failed   bool
	}{{"sent", "42", false}, {"blocked", "unreachable", true}} {
		if st := reserve(a.Token, d.key); st != storage.DeliveryNew {
			t.Fatalf("Reserve %s = %v, want new", d.key, st)
		}
		commit(d.key, d.ref, d.failed)
	}
	// The second time is a repeated Reserve by the same holder.
	for i := range 2 {
		if st := reserve(a.Token, "in-flight"); st != storage.DeliveryNew {
			t.Fatalf("Reserve in-flight #%d = %v, want new", i+1, st)
		}
	}
	// Runner a dies here. b takes over after the lease.
	clk.Advance(time.Minute)
	b := claimIDs(t, s, "b", 1)[0]
	got := map[string]storage.DeliveryState{}
	for _, k := range []string{"sent", "blocked", "in-flight", "never"} {
		got[k] = reserve(b.Token, k)
	}
	want := map[string]storage.DeliveryState{
		"sent": storage.DeliveryDone, "blocked": storage.DeliveryDone,
		"in-flight": storage.DeliveryUncertain, "never": storage.DeliveryNew,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries seen by the new holder (-want +got):\n%s", diff)
	}
	log, err := s.Deliveries(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if d := log["sent"]; d.Ref != "42" || d.Failed {
		t.Errorf("log[sent] = %+v", d)
	}
	if d := log["blocked"]; !d.Failed {
		t.Errorf("log[blocked] = %+v, want failed", d)
	}
	// The old holder's late record still counts: it did send.
	commit("never", "43", false)
	if st := reserve(b.Token, "never"); st != storage.DeliveryDone {
		t.Errorf("Reserve after a late record = %v, want done", st)
	}
}

func TestConcurrentRunnersClaimEachJobOnce(t *testing.T) {
	t.Parallel()
	s, clk := newScheduler(t)
	ctx := context.Background()
	const jobs = 500
	var batch []storage.Job
	for i := range jobs {
		batch = append(batch, storage.Job{ID: fmt.Sprintf("j%03d", i), Kind: "test", DueAt: clk.Now()})
	}
	for _, j := range batch {
		if err := s.Schedule(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for r := range 6 {
		wg.Add(1)
		go func(owner string) {
			defer wg.Done()
			for {
				got, err := s.Claim(ctx, owner, 7, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, j := range got {
					seen[j.ID]++
				}
				mu.Unlock()
				for _, j := range got {
					if err := s.Ack(ctx, j.ID, j.Token); err != nil {
						t.Error(err)
					}
				}
			}
		}(fmt.Sprintf("runner-%d", r))
	}
	wg.Wait()
	var dup []string
	for id, n := range seen {
		if n != 1 {
			dup = append(dup, id)
		}
	}
	sort.Strings(dup)
	if len(seen) != jobs || len(dup) != 0 {
		t.Errorf("claimed %d distinct jobs of %d; claimed more than once: %v", len(seen), jobs, dup)
	}
}

func TestSchedulerRefusesBadInput(t *testing.T) {
	t.Parallel()
	s, clk := newScheduler(t)
	ctx := context.Background()
	for _, id := range []string{"", "a:b", "{x}", "with space"} {
		if err := s.Schedule(ctx, storage.Job{ID: id, Kind: "k", DueAt: clk.Now()}); !errors.Is(err, storage.ErrJobID) {
			t.Errorf("Schedule(%q) = %v, want ErrJobID", id, err)
		}
	}
	if err := s.Schedule(ctx, storage.Job{ID: "x", DueAt: clk.Now()}); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("Schedule without kind = %v, want ErrInvalid", err)
	}
	if _, err := s.Claim(ctx, "a", 0, time.Minute); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("Claim(0) = %v, want ErrInvalid", err)
	}
}
