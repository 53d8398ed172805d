package loadtest

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

// TestTinyBenchCountsEveryVoteOnceWithinTelegramsLimits runs every
// scenario at a tiny size against the real binary (built from this
// module, or LOADTEST_BINARY). Timings depend on the machine and are not
// asserted; counts are.
func TestTinyBenchCountsEveryVoteOnceWithinTelegramsLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bot")
	}
	var out, logs bytes.Buffer
	cfg := Config{
		Scenarios:  []string{ScenarioAll},
		Binary:     os.Getenv("LOADTEST_BINARY"),
		Voters:     10,
		Committees: 2,
		Duration:   time.Second,
		// 120 casts: at about 0.3 ms each, several of the kernel's 10 ms
		// clock ticks by which /proc counts the bot's CPU (24 casts could
		// take less than one and read as none).
		SustainedVoters:     60,
		SustainedCommittees: 1,
		SustainedBallots:    2,
		Replicas:            1,
		Restarts:            0,
		FanOut:              20,
		Chatter:             2,
		ReferenceClients:    5,
		Out:                 &out,
		Log:                 slog.New(slog.NewTextHandler(&logs, nil)),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	t.Log("\n" + out.String())
	t.Log(logs.String())
	if err != nil {
		t.Log(logs.String())
		t.Fatalf("bench failed: %v", err)
	}

	b := rep.Burst
	if b.Presses != 10 || b.Counted != 10 || b.Stored != 10 || b.Tallied != 10 || b.Lost != 0 || b.Doubled != 0 {
		t.Errorf("burst: %d presses, %d counted, %d in boxes, %d tallied, %d lost, %d doubled; want 10 of each and none lost or doubled",
			b.Presses, b.Counted, b.Stored, b.Tallied, b.Lost, b.Doubled)
	}
	if b.AllCounted <= 0 || b.Unanswered != 0 || b.Receipts != 10 || b.Failed != 0 {
		t.Errorf("burst: counted after %v, %d unanswered, %d receipts, %d failed deliveries", b.AllCounted, b.Unanswered, b.Receipts, b.Failed)
	}

	s := rep.Sustained
	if s.Presses == 0 || s.Recorded != s.Presses || s.Answered != s.Presses || s.Failed != 0 {
		t.Errorf("sustained: %d presses, %d recorded, %d answered, %d failed; want every press recorded and answered once",
			s.Presses, s.Recorded, s.Answered, s.Failed)
	}
	if s.CPU <= 0 || s.RedisCalls <= 0 || s.PeakRSS <= 0 {
		t.Errorf("sustained: CPU %v, %d Redis calls, peak RSS %d: not measured", s.CPU, s.RedisCalls, s.PeakRSS)
	}

	l := rep.Limits
	if !l.Completed || l.Expected != 21 || l.Delivered != 21 || l.Lost != 0 || l.Doubled != 0 {
		t.Errorf("limits: completed %v, %d expected, %d delivered, %d lost, %d doubled", l.Completed, l.Expected, l.Delivered, l.Lost, l.Doubled)
	}
	if l.ChatterAll != l.Chatter || l.MaxPerMinGroup > 20 || l.MaxPerSec == 0 {
		t.Errorf("limits: %d of %d /status answered, %d in a minute in the group, %d at most in a second", l.ChatterAll, l.Chatter, l.MaxPerMinGroup, l.MaxPerSec)
	}

	if r := rep.Reference; r.Ops == 0 || r.Latency.P99 <= 0 {
		t.Errorf("reference: %d votes, p99 %v", r.Ops, r.Latency.P99)
	}

	if tooMany := b.TooMany + s.TooMany + l.TooMany; tooMany != 0 {
		t.Errorf("the stand-in answered 429 %d times", tooMany)
	}
	if rep.Rejections != 0 {
		t.Errorf("the stand-in rejected %d requests as breaking the Bot API contract", rep.Rejections)
	}
	if !strings.Contains(out.String(), "## Summary") {
		t.Error("no summary printed")
	}
}

func TestMaxInWindowCountsHalfOpenWindows(t *testing.T) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, base.Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	tests := []struct {
		name  string
		times []time.Time
		want  int
	}{
		{"none", nil, 0},
		{"one", at(5), 1},
		{"within a second", at(0, 500, 999), 3},
		{"a second apart is another window", at(0, 1000, 2000), 1},
		{"unsorted", at(1500, 0, 900, 1200), 3},
	}
	for _, tt := range tests {
		if got := maxInWindow(tt.times, time.Second); got != tt.want {
			t.Errorf("%s: maxInWindow = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestFloorForKeepsTheFirstBurst(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, 0}, {30, 0}, {60, time.Second}, {1020, 33 * time.Second},
	}
	for _, tt := range tests {
		if got := floorFor(tt.n); got != tt.want {
			t.Errorf("floorFor(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}
