package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// errBudgetSpent is the cause of the shutdown context's end.
var errBudgetSpent = errors.New("shutdown budget spent")

// shutdown is the time budget of one shutdown (shutdown.timeout): a single
// deadline, set when the root context ends (SIGINT, SIGTERM), that every
// stage shares. A stage waits for its work only as long as the budget
// lasts; what is not done by then is cut short, logged and left to be
// taken over (updates redelivered by Telegram, claims and leases expiring
// in Redis), so that the sum of the stages never exceeds the budget and
// the orchestrator's SIGKILL never comes first.
type shutdown struct {
	budget time.Duration
	log    *slog.Logger
	// after starts the budget's timer (time.AfterFunc; tests step it).
	after func(d time.Duration, f func()) (stop func() bool)

	ctx    context.Context // ends when the budget is spent
	spend  context.CancelCauseFunc
	unhook func() bool // stops watching the root context

	mu      sync.Mutex
	began   time.Time   // when the root context ended; zero before
	timer   func() bool // stops the budget's timer
	cut     []string    // stages cut short, in order
	skipped []string    // stages not waited for: the budget was spent
	now     func() time.Time
}

// newShutdown watches root: once it ends, the budget starts. after is
// time.AfterFunc unless a test steps the timer itself.
func newShutdown(root context.Context, budget time.Duration, log *slog.Logger,
	now func() time.Time, after func(time.Duration, func()) func() bool) *shutdown {
	if now == nil {
		now = time.Now
	}
	if after == nil {
		after = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	ctx, spend := context.WithCancelCause(context.WithoutCancel(root))
	s := &shutdown{budget: budget, log: log, after: after, ctx: ctx, spend: spend, now: now}
	s.unhook = context.AfterFunc(root, s.begin)
	return s
}

// begin starts the budget: when the root context ends, or when the bot
// stops for another reason (an error) so that its stages are bounded too.
// Only the first call counts.
func (s *shutdown) begin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.began.IsZero() {
		return
	}
	s.began = s.now()
	s.timer = s.after(s.budget, func() { s.spend(errBudgetSpent) })
	s.log.Info("shutting down", "budget", s.budget)
}

// Context ends when the budget is spent; until the root context ended it
// does not end at all. Every stage bounds its waits with it.
func (s *shutdown) Context() context.Context { return s.ctx }

// spent reports whether the budget is spent.
func (s *shutdown) spent() bool { return s.ctx.Err() != nil }

// wait waits for done while the budget lasts and reports whether done
// came. A stage still running when the budget is spent is recorded and
// logged as cut short; one begun when nothing was left of the budget is
// not waited for at all (recorded as such, unless it is already done).
func (s *shutdown) wait(stage string, done <-chan struct{}) bool {
	return s.await(stage, done, s.spent())
}

// run runs fn with the shutdown context and waits for it while the budget
// lasts (see wait). fn should return when its context ends; if it does
// not, it is left running: the process is about to exit.
func (s *shutdown) run(stage string, fn func(ctx context.Context)) bool {
	late := s.spent() // before fn starts, so fn running means it is known
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(s.ctx)
	}()
	return s.await(stage, done, late)
}

// await is wait for a stage begun after the budget was spent (late) or not.
func (s *shutdown) await(stage string, done <-chan struct{}, late bool) bool {
	select {
	case <-done:
		return true
	default:
	}
	if late {
		s.mu.Lock()
		s.skipped = append(s.skipped, stage)
		s.mu.Unlock()
		return false
	}
	select {
	case <-done:
		return true
	case <-s.ctx.Done():
		s.cutShort(stage)
		return false
	}
}

// cutShort records that stage did not finish within the budget.
func (s *shutdown) cutShort(stage string) {
	s.mu.Lock()
	s.cut = append(s.cut, stage)
	s.mu.Unlock()
	s.log.Warn("shutdown budget spent: "+stage+" cut short; left to be taken over", "stage", stage, "budget", s.budget)
}

// finish stops the budget's timer and logs how the shutdown went: how long
// it took, what was cut short and what was not waited for. A shutdown cut
// short is still a clean exit (status 0): nothing cut short is lost, it is
// taken over later.
func (s *shutdown) finish() {
	s.unhook()
	s.mu.Lock()
	began, cut, skipped := s.began, s.cut, s.skipped
	if s.timer != nil {
		s.timer()
	}
	s.mu.Unlock()
	s.spend(context.Canceled) // what was left running sees the end
	if began.IsZero() {
		return // nothing was started, so nothing was stopped
	}
	took := s.now().Sub(began)
	if len(cut) == 0 && len(skipped) == 0 {
		s.log.Info("shutdown complete", "took", took, "budget", s.budget)
		return
	}
	s.log.Warn(fmt.Sprintf("shutdown complete when its budget was spent; cut short: %s; not waited for: %s",
		list(cut), list(skipped)), "took", took, "budget", s.budget, "cut", cut, "not_waited_for", skipped)
}

// list joins stage names for a log line, "none" for no stage.
func list(stages []string) string {
	if len(stages) == 0 {
		return "none"
	}
	return strings.Join(stages, ", ")
}
