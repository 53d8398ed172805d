package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/committeebot/committeebot/internal/logtest"

	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/internal/clocktest"
)

// budgetTimer stands in for time.AfterFunc: the test fires the budget's
// end itself, so nothing here depends on how fast the machine is.
type budgetTimer struct {
	started chan time.Duration // each timer started, with its duration
	mu      sync.Mutex
	fire    func()
	stopped bool
}

func newBudgetTimer() *budgetTimer { return &budgetTimer{started: make(chan time.Duration, 10)} }

func (b *budgetTimer) after(d time.Duration, f func()) func() bool {
	b.mu.Lock()
	b.fire = f
	b.mu.Unlock()
	b.started <- d
	return func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.stopped = true
		return true
	}
}

// spend ends the budget, as its timer would.
func (b *budgetTimer) spend() {
	b.mu.Lock()
	f := b.fire
	b.mu.Unlock()
	f()
}

var clockStart = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// shutdownFixture is a shutdown of 25 s on a stepped timer and clock;
// sigterm ends its root context.
type shutdownFixture struct {
	sd      *shutdown
	sigterm context.CancelFunc
	timer   *budgetTimer
	clock   *clocktest.Clock
	logs    *logtest.Buffer
}

func newShutdownFixture(t *testing.T) shutdownFixture {
	t.Helper()
	root, sigterm := context.WithCancel(t.Context())
	f := shutdownFixture{sigterm: sigterm, timer: newBudgetTimer(), clock: clocktest.New(clockStart), logs: &logtest.Buffer{}}
	f.sd = newShutdown(root, 25*time.Second, slog.New(slog.NewTextHandler(f.logs, nil)), f.clock.Now, f.timer.after)
	return f
}

func TestShutdownBudgetIsOneDeadlineSharedByEveryStage(t *testing.T) {
	t.Parallel()
	f := newShutdownFixture(t)
	sd, sigterm, timer, clock, logs := f.sd, f.sigterm, f.timer, f.clock, f.logs

	// Before SIGTERM there is no budget running: the stages' context does
	// not end however long the bot serves.
	select {
	case d := <-timer.started:
		t.Fatalf("a %s budget started before the shutdown", d)
	default:
	}
	sigterm()
	if d := <-timer.started; d != 25*time.Second {
		t.Fatalf("the budget's timer runs %s, want shutdown.timeout (25s)", d)
	}
	sd.begin() // the bot stopping afterwards starts no second budget
	select {
	case d := <-timer.started:
		t.Fatalf("a second budget of %s started", d)
	default:
	}
	if sd.Context().Err() != nil {
		t.Fatal("the stages' context ended as the shutdown began")
	}

	// A stage that is done in time is waited for and not reported.
	done := make(chan struct{})
	close(done)
	if !sd.wait("receivers", done) {
		t.Error("a finished stage was reported cut short")
	}

	// A stage that does not finish keeps the rest waiting only until the
	// budget is spent.
	blocked := make(chan struct{})
	defer close(blocked)
	handlers := make(chan bool, 1)
	running := make(chan struct{})
	go func() {
		handlers <- sd.run("update handlers", func(context.Context) {
			close(running)
			<-blocked
		})
	}()
	<-running
	clock.Advance(25 * time.Second)
	timer.spend()
	if <-handlers {
		t.Error("a stage still running when the budget was spent was reported finished")
	}

	// Every later stage gets what is left: nothing. It is not waited for,
	// and its context has already ended, so it gives up at once instead
	// of adding its own wait to the total.
	causes := make(chan error, 1)
	if sd.run("scheduled jobs", func(stop context.Context) {
		causes <- context.Cause(stop)
		<-blocked
	}) {
		t.Error("a stage run after the budget was spent was reported finished")
	}
	if !sd.spent() {
		t.Error("spent() = false after the budget ran out")
	}

	if cause := <-causes; !errors.Is(cause, errBudgetSpent) {
		t.Errorf("the late stage's context: %v, want it ended by %v", cause, errBudgetSpent)
	}
	sd.finish()
	if diff := cmp.Diff([]string{"update handlers"}, sd.cut); diff != "" {
		t.Errorf("stages cut short (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"scheduled jobs"}, sd.skipped); diff != "" {
		t.Errorf("stages not waited for (-want +got):\n%s", diff)
	}
	out := logs.String()
	for _, want := range []string{
		"shutting down", "budget=25s",
		"update handlers cut short",
		"cut short: update handlers; not waited for: scheduled jobs", "took=25s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the logs do not say %q:\n%s", want, out)
		}
	}
}

func TestShutdownWithinBudgetCutsNothing(t *testing.T) {
	t.Parallel()
	f := newShutdownFixture(t)
	sd, sigterm, timer, clock, logs := f.sd, f.sigterm, f.timer, f.clock, f.logs
	sigterm()
	<-timer.started

	for _, stage := range []string{"update handlers", "scheduled jobs", "outbox sends in flight"} {
		if !sd.run(stage, func(stop context.Context) {
			if stop.Err() != nil {
				t.Errorf("%s: its context ended within the budget", stage)
			}
			clock.Advance(time.Second)
		}) {
			t.Errorf("%s finished in time but was reported cut short", stage)
		}
	}
	sd.finish()
	if len(sd.cut) != 0 || len(sd.skipped) != 0 {
		t.Errorf("cut short: %v, not waited for: %v; want nothing", sd.cut, sd.skipped)
	}
	timer.mu.Lock()
	stopped := timer.stopped
	timer.mu.Unlock()
	if !stopped {
		t.Error("the budget's timer was left running after the shutdown")
	}
	if out := logs.String(); !strings.Contains(out, "shutdown complete") || !strings.Contains(out, "took=3s") || strings.Contains(out, "cut short") {
		t.Errorf("the logs do not say the shutdown completed in 3s without cuts:\n%s", out)
	}
}
