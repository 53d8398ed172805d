package lifecycle_test

import (
	"context"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/metrics"
	"github.com/committeebot/committeebot/storage"
)

// counter sums the series of a counter of m whose label has value.
func counter(t *testing.T, m *metrics.Metrics, name, label, value string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					sum += s.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

// pollers returns the replicas that say they hold the poll lease.
func pollers(t *testing.T, rs []*apptest.Replica) []*apptest.Replica {
	var out []*apptest.Replica
	for _, r := range rs {
		if apptest.Gauge(t, r.App.Metrics(), "committeebot_poller_active") == 1 {
			out = append(out, r)
		}
	}
	return out
}

// Replicas in polling mode do not fight over getUpdates: one holds the
// poll lease and polls, the others stand by without calling getUpdates at
// all, and when the poller shuts down (releasing the lease) another takes
// over and answers.
func TestOneReplicaPollsAndAnotherTakesOverWhenItShutsDown(t *testing.T) {
	t.Parallel()
	// A lease far longer than the test: a take-over can only come from
	// the release at shutdown.
	opts := []app.Option{app.WithOutboxLimits(storage.OutboxLimits{}), app.WithPollLease(time.Minute, 100*time.Millisecond)}
	h := apptest.StartBot(t, apptest.Options{NoApp: true})
	all := []*apptest.Replica{h.StartReplica("replica-a", opts...), h.StartReplica("replica-b", opts...), h.StartReplica("replica-c", opts...)}
	apptest.WaitFor(t, func() bool { return len(pollers(t, all)) == 1 }, h.Logs.String)
	first := pollers(t, all)[0]
	h.Expect(aliceID, aliceID, "/start", "Xin chào")
	for _, r := range all {
		if r == first {
			if n := counter(t, r.App.Metrics(), "committeebot_telegram_get_updates_total", "result", "ok"); n == 0 {
				t.Errorf("the poller %s counted no getUpdates", r.Name)
			}
			continue
		}
		if n := counter(t, r.App.Metrics(), "committeebot_telegram_get_updates_total", "result", "ok"); n != 0 {
			t.Errorf("%s stands by but called getUpdates %v times", r.Name, n)
		}
	}

	// Each of the two others has tried the lease and stands by (on a
	// loaded machine a replica's first try may come late: waiting here
	// keeps it from taking over at its first try below, which logs
	// nothing of standing by).
	const standBy = "another replica polls for updates; this one stands by"
	apptest.WaitFor(t, func() bool { return strings.Count(h.Logs.String(), standBy) >= 2 }, h.Logs.String)

	first.Stop()
	apptest.WaitFor(t, func() bool { p := pollers(t, all); return len(p) == 1 && p[0] != first }, h.Logs.String)
	h.Expect(bobID, bobID, "/start", "Xin chào")
	// Two replicas polling at once would have one answered 409. (The
	// stand-in may still hold the stopped poller's request, cancelled,
	// when the next poll comes — it learns of a closed connection a moment
	// later — so how many it held at once is no measure here.)
	if n := countStatus(h, "getUpdates", http.StatusConflict); n != 0 {
		t.Errorf("Telegram answered %d getUpdates with 409: two replicas polled at once", n)
	}
}

// A replica that dies while polling is replaced once its lease runs out
// (two seconds in the test children), and no two poll at once.
func TestKilledPollerIsReplacedWhenItsLeaseRunsOut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts bot processes")
	}
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{NoApp: true})
	children := map[string]*exec.Cmd{}
	for _, name := range []string{"replica-a", "replica-b"} {
		h.Env["COMMITTEEBOT_TEST_INSTANCE"] = name
		children[name] = h.StartChild(name)
	}
	h.Expect(aliceID, aliceID, "/start", "Xin chào")
	// The lease's value names its holder: "<until>|<instance>/<random>".
	key := storage.NewKeys(h.Redis.Prefix()).Global("poll", "lease")
	holder := func() string {
		v, _ := h.Redis.Client().Get(context.Background(), key).Result()
		_, owner, _ := strings.Cut(v, "|")
		name, _, _ := strings.Cut(owner, "/")
		return name
	}
	dead := holder()
	if children[dead] == nil {
		t.Fatalf("the poll lease is held by %q, want one of the replicas", dead)
	}
	if err := children[dead].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = children[dead].Process.Wait()

	h.Expect(bobID, bobID, "/start", "Xin chào")
	if got := holder(); got == dead || children[got] == nil {
		t.Errorf("after %s was killed the lease is held by %q, want the other replica", dead, got)
	}
	if n := countStatus(h, "getUpdates", http.StatusConflict); n != 0 {
		t.Errorf("Telegram answered %d getUpdates with 409: two replicas polled at once", n)
	}
	if n := h.TG.MostInFlight("getUpdates"); n != 1 {
		t.Errorf("the stand-in held %d getUpdates at once, want 1", n)
	}
}

// countStatus counts the calls of method the stand-in answered with status.
func countStatus(h *apptest.Harness, method string, status int) int {
	n := 0
	for _, r := range h.TG.Requests() {
		if r.Method == method && r.Status == status {
			n++
		}
	}
	return n
}
