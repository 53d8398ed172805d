package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/internal/clocktest"
	"github.com/committeebot/committeebot/scheduler"
	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// clock is a time source the tests move by hand.
// clock is the step clock the runner under test reads.
type clock = clocktest.Clock

// fixture is a job store on a fresh key prefix and a runner over it.
type fixture struct {
	store *storage.Scheduler
	clock *clock
	ctx   context.Context
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	rt := redistest.New(t)
	clk := clocktest.New(time.Date(2024, 4, 10, 5, 0, 0, 0, time.UTC))
	return fixture{
		store: storage.NewScheduler(rt.Client(), storage.NewKeys(rt.Prefix()), time.Hour, storage.WithClock(clk.Now)),
		clock: clk, ctx: context.Background(),
	}
}

func (f fixture) runner(opts ...scheduler.Option) *scheduler.Runner {
	return scheduler.New(f.store, append([]scheduler.Option{scheduler.WithClock(f.clock.Now), scheduler.WithLease(time.Minute)}, opts...)...)
}

func (f fixture) schedule(t *testing.T, id, kind string, due time.Time) {
	t.Helper()
	if err := f.store.Schedule(f.ctx, storage.Job{ID: id, Kind: kind, Payload: []byte(id), DueAt: due}); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) tick(t *testing.T, r *scheduler.Runner) int {
	t.Helper()
	n, err := r.Tick(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// recorder collects what the runner reports.
type recorder struct {
	mu          sync.Mutex
	jobs        map[string]int
	redelivered int
	deliveries  map[string]int
}

func newRecorder() *recorder {
	return &recorder{jobs: map[string]int{}, deliveries: map[string]int{}}
}

func (r *recorder) JobDone(kind, outcome string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs[kind+"/"+outcome]++
}

func (r *recorder) JobRedelivered(string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.redelivered++
}

func (r *recorder) Delivery(kind, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries[outcome]++
}

func TestTickRunsDueJobsByKindAndAcknowledgesThem(t *testing.T) {
	f := newFixture(t)
	rec := newRecorder()
	r := f.runner(scheduler.WithMetrics(rec))
	var mu sync.Mutex
	var ran []string
	for _, kind := range []string{"remind", "close"} {
		r.Handle(kind, func(_ context.Context, j *scheduler.Job) error {
			mu.Lock()
			defer mu.Unlock()
			ran = append(ran, j.Kind()+":"+string(j.Payload()))
			return nil
		})
	}
	f.schedule(t, "a", "remind", f.clock.Now())
	f.schedule(t, "b", "close", f.clock.Now().Add(-time.Minute))
	f.schedule(t, "later", "remind", f.clock.Now().Add(time.Hour))

	if n := f.tick(t, r); n != 2 {
		t.Fatalf("Tick ran %d jobs, want 2", n)
	}
	sort.Strings(ran)
	if diff := cmp.Diff([]string{"close:b", "remind:a"}, ran); diff != "" {
		t.Errorf("ran (-want +got):\n%s", diff)
	}
	if n := f.tick(t, r); n != 0 {
		t.Errorf("a second Tick ran %d jobs; acknowledged jobs must not run again", n)
	}
	f.clock.Advance(time.Hour)
	if n := f.tick(t, r); n != 1 {
		t.Errorf("an hour later Tick ran %d jobs, want 1", n)
	}
	if rec.jobs["remind/ok"] != 2 || rec.jobs["close/ok"] != 1 {
		t.Errorf("metrics = %v", rec.jobs)
	}
}

func TestFailedJobIsRetriedWithBackoffThenDropped(t *testing.T) {
	f := newFixture(t)
	rec := newRecorder()
	r := f.runner(scheduler.WithMetrics(rec), scheduler.WithRetries(3, time.Second))
	var runs atomic.Int32
	r.Handle("flaky", func(context.Context, *scheduler.Job) error {
		runs.Add(1)
		return errors.New("telegram is down")
	})
	f.schedule(t, "j", "flaky", f.clock.Now())
	f.tick(t, r)
	f.clock.Advance(999 * time.Millisecond)
	if n := f.tick(t, r); n != 0 {
		t.Fatal("retried before the backoff")
	}
	f.clock.Advance(time.Millisecond)
	f.tick(t, r) // second run; next backoff 2 s
	f.clock.Advance(2 * time.Second)
	f.tick(t, r) // third and last run
	f.clock.Advance(time.Hour)
	if n := f.tick(t, r); n != 0 {
		t.Errorf("a dropped job ran again")
	}
	if runs.Load() != 3 || rec.jobs["flaky/retried"] != 2 || rec.jobs["flaky/dropped"] != 1 {
		t.Errorf("runs %d, metrics %v; want 3 runs, 2 retried, 1 dropped", runs.Load(), rec.jobs)
	}
}

func TestDeferredJobRunsAgainLaterWithoutCountingAFailure(t *testing.T) {
	f := newFixture(t)
	rec := newRecorder()
	r := f.runner(scheduler.WithMetrics(rec), scheduler.WithRetries(1, time.Second))
	var runs atomic.Int32
	r.Handle("throttled", func(_ context.Context, j *scheduler.Job) error {
		if runs.Add(1) < 3 {
			return scheduler.Defer(f.clock.Now().Add(3 * time.Second))
		}
		return nil
	})
	f.schedule(t, "j", "throttled", f.clock.Now())
	for range 3 {
		f.tick(t, r)
		f.clock.Advance(3 * time.Second)
	}
	if runs.Load() != 3 || rec.jobs["throttled/deferred"] != 2 || rec.jobs["throttled/ok"] != 1 {
		t.Errorf("runs %d, metrics %v", runs.Load(), rec.jobs)
	}
}

func TestUnknownKindIsGivenBackForAnotherReplica(t *testing.T) {
	f := newFixture(t)
	old := f.runner()
	f.schedule(t, "j", "ballot_close", f.clock.Now())
	f.tick(t, old)
	upgraded := f.runner()
	done := make(chan struct{}, 1)
	upgraded.Handle("ballot_close", func(context.Context, *scheduler.Job) error { done <- struct{}{}; return nil })
	f.clock.Advance(time.Minute)
	if n := f.tick(t, upgraded); n != 1 {
		t.Fatalf("the replica that knows the kind ran %d jobs", n)
	}
	<-done
}

func TestCrashedRunnersJobIsTakenOverAfterTheLease(t *testing.T) {
	f := newFixture(t)
	// A runner claims the job and dies: simulated by claiming it directly.
	f.schedule(t, "j", "remind", f.clock.Now())
	if _, err := f.store.Claim(f.ctx, "crashed", 10, time.Minute); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	r := f.runner(scheduler.WithMetrics(rec))
	var redelivered atomic.Bool
	r.Handle("remind", func(_ context.Context, j *scheduler.Job) error { redelivered.Store(j.Redelivered()); return nil })
	if n := f.tick(t, r); n != 0 {
		t.Fatal("took over a job whose lease runs")
	}
	f.clock.Advance(time.Minute)
	if n := f.tick(t, r); n != 1 || !redelivered.Load() || rec.redelivered != 1 {
		t.Errorf("after the lease: ran %d, redelivered %v, metric %d", n, redelivered.Load(), rec.redelivered)
	}
}

func TestStopLetsJobsFinishThenGivesTheRestBack(t *testing.T) {
	f := newFixture(t)
	r := f.runner(scheduler.WithTick(time.Hour))
	started := make(chan struct{})
	r.Handle("long", func(ctx context.Context, j *scheduler.Job) error {
		close(started)
		<-ctx.Done() // runs until interrupted
		return ctx.Err()
	})
	f.schedule(t, "j", "long", f.clock.Now())
	r.Start(f.ctx) // ticks once at once
	<-started
	ctx, cancel := context.WithCancel(f.ctx)
	cancel() // no grace: interrupt at once
	if err := r.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Stop = %v, want the grace context's error", err)
	}
	// Given back, due now: another runner takes it without waiting for
	// the lease.
	other := f.runner()
	ran := make(chan struct{}, 1)
	other.Handle("long", func(context.Context, *scheduler.Job) error { ran <- struct{}{}; return nil })
	if n := f.tick(t, other); n != 1 {
		t.Fatalf("the job was not given back (ran %d)", n)
	}
	<-ran
}

func TestFanOutSendsEachKeyOnceAcrossRuns(t *testing.T) {
	f := newFixture(t)
	rec := newRecorder()
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = fmt.Sprintf("u%d", i)
	}
	var mu sync.Mutex
	sent := map[string]int{}
	inFlight, peak := 0, 0
	failOnce := map[string]bool{"u7": true}
	send := func(_ context.Context, key string) (string, error) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		fail := failOnce[key]
		delete(failOnce, key)
		mu.Unlock()
		defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		switch {
		case key == "u3":
			return "", scheduler.Permanent(errors.New("403 blocked"))
		case fail:
			return "", errors.New("timeout")
		}
		time.Sleep(time.Millisecond) // keep several sends in flight
		mu.Lock()
		sent[key]++
		mu.Unlock()
		return "ok", nil
	}
	var sums []scheduler.Summary
	r := f.runner(scheduler.WithMetrics(rec), scheduler.WithRetries(5, time.Second))
	r.Handle("remind", func(ctx context.Context, j *scheduler.Job) error {
		sum, err := scheduler.FanOut(ctx, j, 4, keys, scheduler.Resend, send)
		sums = append(sums, sum)
		return err
	})
	f.schedule(t, "j", "remind", f.clock.Now())
	f.tick(t, r) // u7 fails: the job is retried
	f.clock.Advance(time.Second)
	f.tick(t, r)
	for _, k := range keys {
		want := 1
		if k == "u3" {
			want = 0
		}
		if sent[k] != want {
			t.Errorf("%s sent %d times, want %d", k, sent[k], want)
		}
	}
	if peak > 4 {
		t.Errorf("%d sends in flight, want at most 4", peak)
	}
	want := []scheduler.Summary{{Sent: 48, Unreachable: 1, Failed: 1}, {Sent: 0, AlreadyDone: 49}}
	// The retry re-sends u7: it failed with an error that may have reached
	// Telegram, so it counts as uncertain and is sent again.
	want[1].Sent = 1
	if diff := cmp.Diff(want, sums); diff != "" {
		t.Errorf("summaries (-want +got):\n%s", diff)
	}
	if rec.deliveries["uncertain"] != 1 || rec.deliveries["unreachable"] != 1 {
		t.Errorf("delivery metrics %v", rec.deliveries)
	}
}

func TestFanOutStopsWhenTheJobIsChangedUnderIt(t *testing.T) {
	f := newFixture(t)
	keys := make([]string, 20)
	for i := range keys {
		keys[i] = fmt.Sprintf("u%d", i)
	}
	var sent atomic.Int32
	r := f.runner()
	var got error
	r.Handle("remind", func(ctx context.Context, j *scheduler.Job) error {
		_, got = scheduler.FanOut(ctx, j, 1, keys, scheduler.Resend, func(context.Context, string) (string, error) {
			if sent.Add(1) == 5 {
				// An admin moves the meeting meanwhile.
				if err := f.store.Reschedule(context.Background(), "j", f.clock.Now().Add(time.Hour)); err != nil {
					t.Error(err)
				}
			}
			return "ok", nil
		})
		return got
	})
	f.schedule(t, "j", "remind", f.clock.Now())
	f.tick(t, r)
	if !errors.Is(got, scheduler.ErrSuperseded) || sent.Load() != 5 {
		t.Errorf("FanOut = %v after %d sends, want ErrSuperseded after 5", got, sent.Load())
	}
}

func TestBacklogIsDrainedWithoutWaitingForTheNextTick(t *testing.T) {
	f := newFixture(t)
	r := f.runner(scheduler.WithTick(time.Hour), scheduler.WithWorkers(2))
	ran := make(chan string, 10)
	r.Handle("remind", func(_ context.Context, j *scheduler.Job) error { ran <- j.ID(); return nil })
	for i := range 10 {
		f.schedule(t, fmt.Sprintf("j%d", i), "remind", f.clock.Now())
	}
	r.Start(f.ctx)
	defer func() { _ = r.Stop(f.ctx) }()
	seen := map[string]bool{}
	for len(seen) < 10 {
		select {
		case id := <-ran:
			seen[id] = true
		case <-time.After(20 * time.Second): // a safety net, not a bound on speed
			t.Fatalf("after the first tick only %d of 10 jobs ran; the rest waited for the next tick (an hour)", len(seen))
		}
	}
}

func TestJobLongerThanTheSettleTimeoutIsStillAcknowledged(t *testing.T) {
	f := newFixture(t)
	rec := newRecorder()
	// A settle timeout that an acknowledgement keeps to on a busy machine
	// under the race detector, and a job that outlasts it five times.
	r := f.runner(scheduler.WithMetrics(rec), scheduler.WithSettleTimeout(250*time.Millisecond))
	r.Handle("slow", func(ctx context.Context, _ *scheduler.Job) error {
		select {
		case <-time.After(1250 * time.Millisecond): // five settle timeouts
		case <-ctx.Done():
		}
		return nil
	})
	f.schedule(t, "long", "slow", f.clock.Now())
	if n := f.tick(t, r); n != 1 {
		t.Fatalf("Tick ran %d jobs, want 1", n)
	}
	f.clock.Advance(time.Hour) // well past the lease: an unacknowledged job would be due again
	if n := f.tick(t, r); n != 0 || rec.jobs["slow/ok"] != 1 {
		t.Errorf("the job ran again (%d) or was not acknowledged (%v): the settle timer must start when the job ends", n, rec.jobs)
	}
}
