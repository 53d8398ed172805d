package storage_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// pendingSizes are the numbers of jobs waiting (due later) while due ones
// are claimed; docs/PERFORMANCE.md reports the results.
var pendingSizes = []int{1_000, 10_000, 100_000}

// BenchmarkSchedulerClaim measures claiming due jobs among many pending
// ones, on a real redis-server:
//
//	idle:        a tick that finds nothing due (every replica, every tick)
//	one:         claim and acknowledge the one job that is due
//	batch100:    claim 100 due jobs in one call (reported per job)
//
// Run: go test ./storage/ -run '^$' -bench BenchmarkSchedulerClaim -benchtime 2000x
func BenchmarkSchedulerClaim(b *testing.B) {
	for _, n := range pendingSizes {
		rt := redistest.New(b)
		clk := newClock()
		k := storage.NewKeys(rt.Prefix())
		s := storage.NewScheduler(rt.Client(), k, time.Hour, storage.WithClock(clk.Now))
		populate(b, rt.Client(), k, n, clk.Now().Add(24*time.Hour))
		ctx := context.Background()
		seq := 0
		due := func(count int) {
			for range count {
				seq++
				if err := s.Schedule(ctx, storage.Job{ID: "due-" + strconv.Itoa(seq), Kind: "bench", Payload: []byte(`{"m":"1"}`), DueAt: clk.Now()}); err != nil {
					b.Fatal(err)
				}
			}
		}
		// claimDue makes count jobs due and claims up to max, the timer
		// running for the claim only; it returns the jobs, the time the
		// claim took and Redis's share of it in µs.
		claimDue := func(b *testing.B, count, max int) ([]storage.ClaimedJob, time.Duration, int64) {
			b.Helper()
			b.StopTimer()
			due(count)
			before := scriptUsec(b, rt.Client())
			b.StartTimer()
			start := time.Now()
			jobs, err := s.Claim(ctx, "bench", max, time.Minute)
			took := time.Since(start)
			b.StopTimer()
			server := scriptUsec(b, rt.Client()) - before
			b.StartTimer()
			if err != nil || len(jobs) != count {
				b.Fatalf("Claim = %d jobs, %v", len(jobs), err)
			}
			return jobs, took, server
		}

		b.Run(fmt.Sprintf("idle/pending=%d", n), func(b *testing.B) {
			before := scriptUsec(b, rt.Client())
			for b.Loop() {
				if jobs, err := s.Claim(ctx, "bench", 32, time.Minute); err != nil || len(jobs) != 0 {
					b.Fatalf("Claim = %d jobs, %v", len(jobs), err)
				}
			}
			b.ReportMetric(float64(scriptUsec(b, rt.Client())-before)/float64(b.N), "redis-µs/claim")
		})
		b.Run(fmt.Sprintf("one/pending=%d", n), func(b *testing.B) {
			var server int64
			for i := 0; i < b.N; i++ {
				jobs, _, usec := claimDue(b, 1, 32)
				server += usec
				if err := s.Ack(ctx, jobs[0].ID, jobs[0].Token); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(server)/float64(b.N), "redis-µs/claim")
		})
		b.Run(fmt.Sprintf("batch100/pending=%d", n), func(b *testing.B) {
			var claimed time.Duration
			var server int64
			for i := 0; i < b.N; i++ {
				jobs, took, usec := claimDue(b, 100, 100)
				claimed += took
				server += usec
				b.StopTimer()
				for _, j := range jobs {
					if err := s.Ack(ctx, j.ID, j.Token); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(claimed.Nanoseconds())/float64(b.N*100), "ns/job")
			b.ReportMetric(float64(server)/float64(b.N*100), "redis-µs/job")
		})
	}
}

// scriptUsec is the time Redis has spent running scripts (EVALSHA and
// EVAL), from INFO commandstats: the server's share of a claim, without
// the network and the client.
func scriptUsec(b *testing.B, c redis.UniversalClient) int64 {
	b.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, line := range strings.Split(info, "\n") {
		name, stats, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (name != "cmdstat_evalsha" && name != "cmdstat_eval") {
			continue
		}
		for _, kv := range strings.Split(stats, ",") {
			if v, ok := strings.CutPrefix(kv, "usec="); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				total += n
			}
		}
	}
	return total
}

// populate writes n jobs due at due the way Schedule stores them, in
// pipelines, so that setting up 100 000 jobs takes seconds.
func populate(b *testing.B, c redis.UniversalClient, k storage.Keys, n int, due time.Time) {
	b.Helper()
	ctx := context.Background()
	ms := due.UnixMilli()
	for start := 0; start < n; start += 1000 {
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := start; i < min(start+1000, n); i++ {
				id := "pending-" + strconv.Itoa(i)
				at := ms + int64(i)*1000
				p.HSet(ctx, k.SchedulerJob(id), "kind", "bench", "payload", `{"m":"1"}`, "due", at,
					"state", "ready", "token", 0, "attempt", 0, "failures", 0)
				p.ZAdd(ctx, k.SchedulerDue(), redis.Z{Score: float64(at), Member: id})
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
